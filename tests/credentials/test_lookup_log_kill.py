"""The lookup log's promise (README): every answered lookup is logged, also when the server
process is killed outright before its writer wrote the row (issue 17: 2 of 420 rows lost)."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from bench.harness import Server

MIGRATE = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]


def _count(db_path) -> int:
    with sqlite3.connect(db_path, timeout=20) as conn:
        return conn.execute("SELECT count(*) FROM credentials_lookuplog").fetchone()[0]


@pytest.mark.server
def test_lookups_answered_before_a_sigkill_are_logged_by_the_next_process(tmp_path):
    spool = tmp_path / "spool"
    env = {
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LINLI_LOOKUP_LOG_SPOOL": str(spool),
        "LINLI_LOOKUP_LOG_INTERVAL": "60",  # the rows wait in memory when the process dies
        "LINLI_LOOKUP_RATE": "100000/s",
    }
    seed = [
        sys.executable,
        "-c",
        f"from bench.lookup import seed; seed(5, {str(tmp_path / 'tokens.json')!r})",
    ]
    with Server.linli(env=env, prepare=[MIGRATE, seed]) as first:
        tokens = (
            json.loads((tmp_path / "tokens.json").read_text())["valid"]
            + json.loads((tmp_path / "tokens.json").read_text())["forged"]
        )
        answered = 0
        for i in range(40):
            with urllib.request.urlopen(
                f"{first.url}/api/v1/verify/{tokens[i % len(tokens)]}", timeout=10
            ) as r:
                answered += r.status == 200
        assert answered == 40
        before = _count(tmp_path / "db.sqlite3")
        first._proc.send_signal(signal.SIGKILL)  # no atexit, no flush
        first._proc.wait(timeout=10)
    assert before < 40  # the rows were still waiting in memory
    assert list(spool.glob("lookup-*.jsonl"))

    with Server.linli(env=env, prepare=[]):
        deadline = time.monotonic() + 20
        while (logged := _count(tmp_path / "db.sqlite3")) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        assert _count(tmp_path / "db.sqlite3") == logged == 40  # all of them, none twice


@pytest.mark.django_db
def test_replay_skips_rows_already_logged(settings, tmp_path):
    from backend.credentials.lookup.log import log_insert, lookup_log
    from backend.credentials.lookup.spool import encode
    from backend.credentials.models import LookupLog

    settings.LINLI_LOOKUP_LOG_SPOOL = str(tmp_path)
    settings.LINLI_LOOKUP_DB = "django"
    now = timezone.now()
    rows = [
        (
            str(now - timedelta(seconds=i)),
            "valid",
            "api",
            f"{i:020x}",
            "",
            None,
            None,
            "127.0.0.0/24",
            "desktop",
        )
        for i in range(3)
    ]
    from backend.credentials.lookup.log import db_datetime

    log_insert([(db_datetime(now - timedelta(seconds=0)), *rows[0][1:])])  # written before the kill
    (tmp_path / "lookup-999999-dead.jsonl").write_bytes(b"".join(encode(r) for r in rows) + b"('cut")
    assert lookup_log.replay_orphans() == 2
    assert LookupLog.objects.count() == 3
    assert not list(tmp_path.glob("lookup-*.jsonl"))
