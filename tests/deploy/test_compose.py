"""Static validation of docker-compose.yml and deploy/ (no Docker engine runs here).

Checks the structure the deployment relies on: the services and what they run, health checks,
the shared env file, volumes, start-up order, the nginx routing and the Dockerfile's inputs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML parses docker-compose.yml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

APP_SERVICES = {"migrate", "web1", "web2", "worker", "scheduler"}
LONG_RUNNING = {"db", "redis", "web1", "web2", "worker", "scheduler", "nginx"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _argv(command) -> list[str]:
    return command if isinstance(command, list) else shlex.split(command)


def _manage_commands(argv: list[str]) -> list[str]:
    """Django management commands an argv runs (also inside ``sh -c "a && b"``)."""
    if argv[:2] == ["sh", "-c"]:
        return [c for part in argv[2].split("&&") for c in _manage_commands(shlex.split(part))]
    if len(argv) >= 3 and argv[0] == "python" and argv[1] == "manage.py":
        return [argv[2]]
    return []


def test_the_expected_services_exist(services):
    assert set(services) == LONG_RUNNING | {"migrate"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["nginx"]["image"].startswith("nginx:")


def test_app_services_share_image_env_file_and_settings(services):
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"] == "linli:latest", name
        assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}, name
        assert service["env_file"] == ".env", name
        env = service["environment"]
        assert env["LINLI_ENV"] == "prod", name
        assert env["LINLI_ACCESS_LOG"] == "0", name  # nginx writes the access log
        assert env["LINLI_TASKS"] == "database", name
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"], name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name


def test_two_daphne_web_processes(services):
    for name in ("web1", "web2"):
        argv = _argv(services[name]["command"])
        assert argv[:3] == ["python", "-m", "backend.serve"] and argv[-1] == "backend.asgi:application"
        assert "--proxy-headers" in argv
        assert argv[argv.index("-p") + 1] == "8000" and argv[argv.index("-b") + 1] == "0.0.0.0"


def test_worker_and_scheduler_commands_exist(services):
    from django.core.management import get_commands

    known = get_commands()
    assert _manage_commands(_argv(services["worker"]["command"])) == ["db_worker"]
    assert "--no-reload" in _argv(services["worker"]["command"])
    assert _manage_commands(_argv(services["scheduler"]["command"])) == ["run_scheduler"]
    assert _manage_commands(_argv(services["migrate"]["command"])) == ["migrate", "collectstatic"]
    for name in APP_SERVICES:
        for command in _manage_commands(_argv(services[name]["command"])):
            assert command in known, (name, command)
        test = services[name].get("healthcheck", {}).get("test", [])
        for command in _manage_commands([t for t in test if t != "CMD"]):
            assert command in known, (name, command)


def test_every_long_running_service_has_a_health_check(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_inline_python_health_checks_compile(services):
    for name in LONG_RUNNING:
        test = services[name]["healthcheck"]["test"]
        if test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"<{name} healthcheck>", "exec")


def test_web_health_check_calls_the_health_endpoint(services):
    from django.urls import resolve

    for name in ("web1", "web2"):
        code = services[name]["healthcheck"]["test"][3]
        url = re.search(r'"(http://127\.0\.0\.1:8000(/[^"]*))"', code)
        assert url and url.group(2) == "/api/v1/health"
        resolve(url.group(2))  # the route exists


def test_start_up_order(services):
    for name in ("web1", "web2", "worker", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["db"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["restart"] == "no"
    assert {k: v["condition"] for k, v in services["nginx"]["depends_on"].items()} == {
        "web1": "service_healthy",
        "web2": "service_healthy",
    }


def test_volumes_are_declared_and_data_is_persistent(compose, services):
    declared = set(compose["volumes"])
    for name, service in services.items():
        for spec in service.get("volumes", []):
            source = spec.split(":")[0]
            if not source.startswith("."):
                assert source in declared, (name, spec)
            else:
                assert (ROOT / source).resolve().is_relative_to(ROOT), (name, spec)
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    for name in APP_SERVICES:
        assert {"static:/srv/static", "media:/srv/media"} <= set(services[name]["volumes"]), name


def test_database_password_comes_from_the_env_file(services):
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "env_file" not in services["db"]  # the app's secrets stay out of the database container


def test_only_nginx_is_published(services):
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"nginx"}
    assert set(services["nginx"]["ports"]) == {"80:80", "443:443"}


# --- nginx -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx() -> str:
    return NGINX.read_text()


def test_nginx_config_is_mounted(services):
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]


def test_nginx_braces_balance(nginx):
    text = re.sub(r"#.*", "", nginx)
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_nginx_balances_both_web_processes(nginx):
    upstream = re.search(r"upstream linli_web \{(.*?)\}", nginx, re.S).group(1)
    assert re.findall(r"server (\S+)", upstream) == ["web1:8000", "web2:8000"]
    assert nginx.count("proxy_pass http://linli_web;") >= 2


def test_nginx_upgrades_websockets(nginx):
    ws = re.search(r"location /ws/ \{(.*?)\}", nginx, re.S).group(1)
    assert "proxy_http_version 1.1;" in ws
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert re.search(r"proxy_read_timeout (\d+)s;", ws).group(1) == "86400"
    from realtime.routing import websocket_urlpatterns

    assert all(str(p.pattern).startswith("ws/") for p in websocket_urlpatterns)


def test_nginx_serves_static_from_the_shared_volume_and_media_only_for_django(nginx, services):
    assert re.search(r"location /static/ \{\s*alias /srv/static/;", nginx)
    assert "static:/srv/static:ro" in services["nginx"]["volumes"]
    assert "media:/srv/media:ro" in services["nginx"]["volumes"]
    # Uploads have no public location: only what Django authorised (a valid signed URL) is sent,
    # from an internal location that X-Accel-Redirect reaches and no client URL does.
    assert "location /media/" not in nginx
    protected = re.search(r"location /protected-media/ \{(.*?)\}", nginx, re.S).group(1)
    assert re.search(r"^\s*internal;", protected, re.M)
    assert re.search(r"alias /srv/media/;", protected)
    assert "add_header X-Content-Type-Options nosniff;" in protected


def test_web_processes_hand_authorised_files_to_nginx(services, nginx):
    for name in ("web1", "web2"):
        prefix = services[name]["environment"]["LINLI_MEDIA_ACCEL_REDIRECT"]
        assert f"location {prefix} {{" in nginx, name


def test_nginx_passes_client_address_and_scheme(nginx):
    assert nginx.count("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;") >= 2
    assert nginx.count("proxy_set_header X-Forwarded-Proto $scheme;") >= 2


def test_nginx_upload_limit_matches_django(nginx, settings):
    limit = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert limit * 1024 * 1024 >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_nginx_health_endpoint_matches_its_check(nginx, services):
    assert "location = /nginx-health" in nginx
    assert "http://127.0.0.1/nginx-health" in services["nginx"]["healthcheck"]["test"]


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_copies_what_exists_and_runs_unprivileged():
    text = DOCKERFILE.read_text()
    assert text.startswith("#") and re.search(r"^FROM python:3\.11", text, re.M)
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        for source in line.split()[:-1]:
            if source != "README.md":  # written by the maintainers, see README "Production"
                assert (ROOT / source).exists(), source
    assert re.search(r"^USER linli$", text, re.M)
    assert "LINLI_STATIC_ROOT=/srv/static" in text and "LINLI_MEDIA_ROOT=/srv/media" in text


def test_env_example_documents_what_compose_needs():
    example = ROOT / ".env.example"
    if not example.exists():
        pytest.skip(".env.example is not written yet")
    documented = set(re.findall(r"^\s*#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(), re.M))
    needed = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", COMPOSE.read_text()))
    needed |= {"SECRET_KEY", "ALLOWED_HOSTS", "LINLI_DATA_KEY", "LINLI_INDEX_KEY", "LINLI_PUBLIC_HOST"}
    needed |= {"FIREBASE_CREDENTIALS", "FIREBASE_PROJECT_ID"}
    assert needed <= documented, sorted(needed - documented)
