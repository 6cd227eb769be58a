"""Fixtures of the credentials domain."""

from __future__ import annotations

import pytest

from tests.support.wechat_fixtures import wechat, wechat_standin  # noqa: F401 - content checks


@pytest.fixture(autouse=True)
def _fresh_signing_keys(settings):
    """The key cache lives in the process; each test's database starts without keys."""
    from backend.core import keys

    # A stalled machine must not trigger a periodic key recheck (a query) in the middle of a
    # zero-query assertion; tests of the recheck set their own interval.
    settings.LINLI_SIGNING_KEYS_RECHECK = 3600
    settings.LINLI_SIGNING_KEYS_MAX_AGE = 3600
    keys.keys_invalidate(everywhere=False)
    yield
    keys.keys_invalidate(everywhere=False)


@pytest.fixture(autouse=True)
def _lookup_log_in_test_thread(settings):
    """The lookup log is flushed by the tests (the root conftest keeps its writer thread off)."""
    from backend.credentials.lookup.log import lookup_log

    settings.LINLI_LOOKUP_DB = "django"  # the lookup query runs in the test's thread and transaction
    lookup_log.rows.clear()
    yield
    lookup_log.rows.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counts outlive a test (in this process, or under this process's Redis prefix)."""
    from backend.credentials.lookup import ratelimit

    ratelimit.reset()
    yield
    ratelimit.reset()
