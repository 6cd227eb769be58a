"""The lookup's direct status reads (SQLite on the event loop, psycopg's asyncio connections on
PostgreSQL) answer exactly what Django's connection answers, and recover from lost connections.

These tests commit their data (``transaction=True``): the direct connections are not the test's."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.utils import timezone

from backend.credentials import services
from backend.credentials.lookup import db as lookup_db
from backend.credentials.lookup.answer import alookup_token
from backend.runtime import loopdb
from tests.credentials import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite reader")
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL reader")


@pytest.fixture
def direct(settings):
    settings.LINLI_LOOKUP_DB = "direct"


def _on_one_loop(*steps):
    """Run coroutine factories one after the other on one fresh event loop, then close its
    direct connections; returns their results."""

    async def go():
        try:
            return [await step() for step in steps]
        finally:
            await lookup_db.aclose()
            await sync_to_async(connections.close_all)()  # the helper thread's Django connection

    return asyncio.run(go())


def _every_status():
    today = timezone.localdate()
    assoc = f.association()
    valid = f.credential(f.practitioner(assoc, name="王五"))
    suspended = f.credential(f.practitioner(assoc, name="赵六"))
    services.credential_suspend(actor=None, credential=suspended, reason="调查中")
    revoked = f.credential(f.practitioner(assoc, name="钱七"))
    services.credential_revoke(actor=None, credential=revoked, reason="违规")
    listed = f.credential(f.practitioner(assoc, name="孙八"))
    services.practitioner_blacklist(
        actor=None, practitioner=listed.practitioner, listed_on=today, reason="多次投诉", basis="协会决定"
    )
    expired = f.credential(
        f.practitioner(assoc, name="周九"),
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=1),
    )
    return [valid, suspended, revoked, listed, expired]


def test_direct_rows_equal_djangos_rows_for_every_status(direct):
    credentials = _every_status()
    ids = [c.token_id for c in credentials] + ["00" * 10]  # and a genuine-looking id nobody carries
    expected = [lookup_db.query_token_row(token_id) for token_id in ids]
    assert expected[-1] is None and all(row is not None for row in expected[:-1])
    assert [row["blacklisted"] for row in expected[:-1]] == [False, False, False, True, False]
    got = _on_one_loop(*[lambda token_id=token_id: lookup_db.aquery_token_row(token_id) for token_id in ids])
    assert got == expected


def test_direct_lookup_sees_a_revocation_at_once(direct):
    credential = f.valid_credential()

    async def lookup():
        return (await alookup_token(credential.token)).status

    async def revoke():
        await sync_to_async(services.credential_revoke)(actor=None, credential=credential, reason="吊销")

    assert _on_one_loop(lookup, revoke, lookup) == ["valid", None, "revoked"]


@sqlite_only
def test_sqlite_reader_is_read_only_and_reopens_a_closed_connection(direct):
    credential = f.valid_credential()

    async def steps():
        first = await lookup_db.aquery_token_row(credential.token_id)
        reader = lookup_db.readers.sqlite[asyncio.get_running_loop()]
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only|attempt to write"):
            reader.db.execute("DELETE FROM credentials_credential")
        reader.db.close()  # behind the reader's back
        again = await lookup_db.aquery_token_row(credential.token_id)
        return first, again

    first, again = _on_one_loop(steps)[0]
    assert first == again and first["id"] == credential.pk


@sqlite_only
def test_sqlite_busy_database_goes_to_a_thread_instead_of_blocking_the_loop(direct, monkeypatch):
    credential = f.valid_credential()
    loop_threads, answered = [], []

    def busy(self, sql, params, limits, *, one):
        import threading

        loop_threads.append(threading.get_ident())
        raise loopdb.Busy

    real = lookup_db.query_token_row

    def in_thread(token_id_hex):
        import threading

        answered.append(threading.get_ident())
        return real(token_id_hex)

    monkeypatch.setattr(loopdb.SqliteReader, "fetch", busy)
    monkeypatch.setattr(lookup_db, "query_token_row", in_thread)
    (row,) = _on_one_loop(lambda: lookup_db.aquery_token_row(credential.token_id))
    assert row["id"] == credential.pk
    assert loop_threads and answered and answered[0] != loop_threads[0]


@sqlite_only
def test_sqlite_reader_replaces_an_old_connection(direct, settings):
    settings.LINLI_LOOKUP_DB_CONN_AGE = 0
    credential = f.valid_credential()

    async def both():
        await lookup_db.aquery_token_row(credential.token_id)
        reader = lookup_db.readers.sqlite[asyncio.get_running_loop()]
        first = reader.db
        await lookup_db.aquery_token_row(credential.token_id)
        return first is not reader.db

    assert _on_one_loop(both) == [True]


@postgres_only
def test_postgres_reader_survives_a_terminated_backend(direct):
    credential = f.valid_credential()

    async def steps():
        first = await lookup_db.aquery_token_row(credential.token_id)
        reader = lookup_db.readers.postgres[asyncio.get_running_loop()]
        pids = [c.info.backend_pid for c in reader.slots if c is not None]
        assert pids, "the reader holds its own connections"

        def terminate():
            with connection.cursor() as cursor:
                for pid in pids:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        await sync_to_async(terminate)()
        answers = [await lookup_db.aquery_token_row(credential.token_id) for _ in range(4)]
        return first, answers

    first, answers = _on_one_loop(steps)[0]
    assert first["id"] == credential.pk
    assert answers == [first] * 4


@postgres_only
def test_postgres_reader_answers_concurrent_lookups(direct, settings):
    settings.LINLI_LOOKUP_DB_CONNECTIONS = 2
    credentials = [f.valid_credential() for _ in range(5)]

    async def many():
        rows = await asyncio.gather(*[lookup_db.aquery_token_row(c.token_id) for c in credentials * 10])
        reader = lookup_db.readers.postgres[asyncio.get_running_loop()]
        return rows, sum(c is not None for c in reader.slots)

    rows, opened = _on_one_loop(many)[0]
    assert [row["id"] for row in rows] == [c.pk for c in credentials * 10]
    assert opened == 2


# --- the lookup log writer -----------------------------------------------------------------------


@pytest.mark.skipif("sys.platform != 'linux'", reason="per-thread nice values are Linux's")
def test_log_writer_lowers_its_own_priority_only():
    import os
    import threading

    from backend.credentials.lookup.log import _lower_priority

    seen = {}
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def writer():
        _lower_priority(19)
        seen["writer"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    assert seen["writer"] == 19
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread: untouched


def test_rows_past_the_limit_are_written_by_a_catch_up_thread(settings, monkeypatch):
    import time

    from backend.credentials.lookup.answer import lookup_token
    from backend.credentials.lookup.log import LookupLogBuffer, lookup_log, lookup_record
    from backend.credentials.models import LookupLog

    settings.LINLI_LOOKUP_LOG_BACKGROUND = True
    settings.LINLI_LOOKUP_LOG_BATCH = 4
    settings.LINLI_LOOKUP_LOG_MAX_PENDING = 10
    monkeypatch.setattr(LookupLogBuffer, "_start", lambda self: None)  # as if the writer were starved
    credential = f.valid_credential()
    result = lookup_token(credential.token)
    for _ in range(9):
        lookup_record(result=result, channel="api", meta={"REMOTE_ADDR": "10.1.2.3"})
    assert lookup_log.catch_up is None and lookup_log.pending() == 9
    lookup_record(result=result, channel="api", meta={"REMOTE_ADDR": "10.1.2.3"})
    assert lookup_log.catch_up is not None
    lookup_log.catch_up.join(timeout=10)
    assert lookup_log.pending() == 0
    assert (
        LookupLog.objects.filter(
            credential_id=credential.pk, result="valid", client_net="10.1.2.0/24"
        ).count()
        == 10
    )
    deadline = time.monotonic() + 1
    while lookup_log.catch_up.is_alive() and time.monotonic() < deadline:  # pragma: no cover
        time.sleep(0.01)
    assert not lookup_log.catch_up.is_alive()  # it wrote what waited and ended
