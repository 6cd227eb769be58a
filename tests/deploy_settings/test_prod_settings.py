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
