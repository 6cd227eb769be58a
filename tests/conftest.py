"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from tests.helpers import ApiClient
from tests.support.firebase_emulator import firebase_auth_emulator  # noqa: F401 - session fixture


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _lookup_log_flushed_by_tests(settings):
    """No background lookup-log writer in the test process: it would write to (and keep a
    connection to) the test database behind the tests' backs. Tests that read the log flush it."""
    settings.LINLI_LOOKUP_LOG_BACKGROUND = False


@pytest.fixture(autouse=True)
def _fresh_signing_keys(settings):
    """Signing keys are cached per process, but every test starts with an empty key table: a
    cached key from an earlier test would shadow the one this test creates under the same id.
    No periodic recheck mid-test either (a stalled machine must not add a query)."""
    from backend.core import keys

    settings.LINLI_SIGNING_KEYS_RECHECK = 3600
    settings.LINLI_SIGNING_KEYS_MAX_AGE = 3600
    keys.keys_invalidate(everywhere=False)
    yield
    keys.keys_invalidate(everywhere=False)


@pytest.fixture(autouse=True)
def _websocket_contract():
    """Frames and close codes that break the published AsyncAPI document fail the test that
    produced them (tests/support/asyncapi_contract.py)."""
    from tests.support.asyncapi_contract import VIOLATIONS

    VIOLATIONS.clear()
    yield
    found, VIOLATIONS[:] = list(VIOLATIONS), []
    assert not found, "websocket frames break the AsyncAPI document:\n" + "\n".join(found)


@pytest.fixture
def api(db) -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's admin client, signed in as the admin site expects (a live AuthSession)."""
    from tests.helpers import admin_client_for

    return admin_client_for(admin_user)
