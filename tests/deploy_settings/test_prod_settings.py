"""Production settings: refuse to start without secrets, no dev login, check --deploy clean."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def prod_env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        LINLI_ENV="prod",
        SECRET_KEY="p" * 20 + base64.urlsafe_b64encode(os.urandom(40)).decode(),
        ALLOWED_HOSTS="linli.example.cn",
        DATABASE_URL=f"sqlite:///{tmp_path}/prod.sqlite3",
        LINLI_DATA_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        LINLI_INDEX_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        LINLI_PUBLIC_HOST="linli.example.cn",
        DJANGO_SETTINGS_MODULE="backend.settings",
    )
    env.update(overrides)
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], prod_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "LINLI_DATA_KEY", "LINLI_INDEX_KEY"]
)
def test_missing_secret_fails_at_start_with_a_clear_message(tmp_path, missing):
    env = prod_env(tmp_path)
    env.pop(missing)
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "LINLI_ENV=prod needs" in result.stderr and missing in result.stderr


def test_dev_login_is_impossible_in_prod(tmp_path):
    code = (
        "import django, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='linli.example.cn').post('/api/v1/auth/dev-login', json.dumps({'phone': '13800138000'}),"
        " content_type='application/json', secure=True);"
        "print(r.status_code, r.json()['code'])"
    )
    result = run(["-c", code], prod_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("404 dev_login_disabled")


def test_prod_refuses_to_start_in_debug(tmp_path):
    result = run(["manage.py", "check"], prod_env(tmp_path, DEBUG="1"))
    assert result.returncode != 0
    assert "refuses to start with DEBUG on" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("LINLI_DATA_KEY", "not base64 at all!"),
        ("LINLI_DATA_KEY", base64.urlsafe_b64encode(os.urandom(16)).decode()),
        ("LINLI_INDEX_KEY", "%%%"),
        ("LINLI_INDEX_KEY", base64.urlsafe_b64encode(os.urandom(31)).decode()),
        ("LINLI_DATA_KEYS_OLD", "short"),
    ],
)
def test_malformed_key_fails_check_deploy_at_start(tmp_path, setting, value):
    result = run(["manage.py", "check", "--deploy"], prod_env(tmp_path, **{setting: value}))
    assert result.returncode != 0
    assert setting in result.stderr and "ImproperlyConfigured" in result.stderr


def test_malformed_key_also_stops_a_dev_server_at_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(LINLI_DATA_KEY="abc", DJANGO_SETTINGS_MODULE="backend.settings", LINLI_VAR_DIR=str(tmp_path))
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "LINLI_DATA_KEY" in result.stderr


def test_api_docs_are_not_public_in_prod_by_default(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "c = Client(HTTP_HOST='linli.example.cn');"
        "print(*[c.get(p, secure=True).status_code for p in "
        "('/api/v1/docs', '/api/v1/openapi.json', '/api/v1/asyncapi.json')])"
    )
    assert run(["-c", code], prod_env(tmp_path)).stdout.split() == ["404", "404", "404"]
    env = prod_env(tmp_path, LINLI_API_DOCS_PUBLIC="1", LINLI_STATIC_ROOT=str(tmp_path / "static"))
    collected = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)  # as the deploy does
    assert collected.returncode == 0, collected.stderr[-2000:]
    opened = run(["-c", code], env)
    assert opened.stdout.split() == ["200", "200", "200"], opened.stderr[-2000:]
