"""Faults inside one process (issue 17): the shared cache (Redis) away, the media directory not
writable. The faults of whole servers (Redis restarted under two daphnes, PostgreSQL away, a
SIGKILL) are in ``test_faults_e2e.py``."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from bench.harness import free_port
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lookup_in_test_thread(settings):
    """The lookup query runs in the test's transaction; its log rows are dropped afterwards."""
    from backend.credentials.lookup.log import lookup_log

    settings.LINLI_LOOKUP_DB = "django"
    yield
    lookup_log.rows.clear()


@contextlib.contextmanager
def redis_away():
    """Django's cache pointed at a loopback port nobody listens on: every cache call fails at
    once, as while Redis is stopped."""
    port = free_port()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        from django.core.cache import cache

        with pytest.raises(Exception):  # noqa: B017 - any redis-py error: the cache is away
            cache.get("probe")
        yield


def test_credential_lookups_keep_working_while_redis_is_away(api, settings):
    from backend.core import keys
    from tests.credentials import factories as cf

    credential = cf.valid_credential()
    settings.LINLI_SIGNING_KEYS_RECHECK = 0  # every lookup asks the cache whether keys changed
    keys.keys_invalidate(everywhere=False)
    with redis_away():
        for _ in range(3):
            response = api.get(f"/verify/{credential.token}")
            assert response.status_code == 200, response.content
            assert response.json()["status"] == "valid"


def test_a_revocation_still_reaches_verification_while_redis_is_away(api, settings):
    """While nobody can announce a key change through the cache, keys are rechecked in the
    database at every recheck instead."""
    from backend.core import keys
    from backend.core.models import SigningKey
    from tests.credentials import factories as cf

    credential = cf.valid_credential()
    settings.LINLI_SIGNING_KEYS_RECHECK = 0
    with redis_away():
        assert api.get(f"/verify/{credential.token}").json()["genuine"] is True
        SigningKey.objects.update(status="revoked")  # as another process would, unannounced
        assert api.get(f"/verify/{credential.token}").json()["genuine"] is False
    keys.keys_invalidate(everywhere=False)


def test_http_checkin_upload_keeps_working_while_redis_is_away(api, settings):
    from backend.accounts.models import Role
    from backend.checkin.models import Checkin
    from tests.checkin import factories as f

    now = timezone.now()
    ev = f.event(starts_at=now - timedelta(hours=1), checkin_opens_at=now - timedelta(hours=2))
    scanner = f.staff(ev, Role.SCANNER)
    p = f.attendee(ev)
    settings.LINLI_SIGNING_KEYS_RECHECK = 0
    items = [f.redeem_msg(p.secret, nonce="redis-away-1", scanned_at=now - timedelta(minutes=3))]
    with redis_away():
        r = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"device": "phone-1", "items": items})
    assert r.status_code == 200, r.content
    assert r.json()["results"][0]["status"] == "ok"
    assert Checkin.objects.filter(event=ev, status="ok").count() == 1


@contextlib.contextmanager
def media_not_writable(root):
    """The media directory refuses writes for real: owned by another user and read-only for the
    server. Running as root (which ignores file modes), the process takes an unprivileged
    effective user for the block (open database connections keep working)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o555)
    as_root = os.geteuid() == 0
    "warm".encode("unicode_escape")  # codecs load lazily, from files the other user may not read
    try:
        if as_root:
            os.seteuid(65534)
        yield
    finally:
        if as_root:
            os.seteuid(0)
        root.chmod(0o755)


def test_media_directory_not_writable_is_a_503_with_its_own_code_and_nothing_half_written(api, settings):
    from backend.rivers.models import RiverPhoto
    from tests.rivers import factories as rf
    from tests.rivers.test_issues import _report

    segment = rf.river_with_segment()
    reporter = rf.volunteer()
    issue_id = _report(api, reporter, segment)["id"]
    photo = {"photo": ("x.jpg", rf.jpeg_with_gps(), "image/jpeg")}
    with media_not_writable(settings.MEDIA_ROOT):
        response = api.as_user(reporter).upload(f"/river-issues/{issue_id}/photos", photo)
    assert_error(response, 503, "storage_unavailable")
    assert int(response["Retry-After"]) > 0
    assert not RiverPhoto.objects.exists()
    assert api.as_user(reporter).upload(f"/river-issues/{issue_id}/photos", photo).status_code == 201


def test_health_reports_storage(api, settings):
    ok = api.get("/health")
    assert ok.json()["checks"]["storage"]["ok"] is True
    with media_not_writable(settings.MEDIA_ROOT):
        broken = api.get("/health")
    body = assert_error(broken, 503, "service_unavailable")
    assert body["details"]["checks"]["storage"]["ok"] is False
    assert body["details"]["checks"]["database"]["ok"] is True
    assert broken["Retry-After"]
