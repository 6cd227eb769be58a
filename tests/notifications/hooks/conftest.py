"""Fixtures of the end-to-end notification tests (``support`` says what they check)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.filings import conftest as filings_fixtures

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- fixtures ------------------------------------------------------------------------------------

# The filings tests' divisions and people, used as they are (through getfixturevalue below).
divisions = filings_fixtures.divisions
rep = filings_fixtures.rep
reviewer = filings_fixtures.reviewer
reviewer2 = filings_fixtures.reviewer2


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(MORNING, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_signing_keys():
    """Signing keys (passes, badges) are cached per process; each test database starts without."""
    from backend.core.keys import keys_invalidate

    keys_invalidate(everywhere=False)
    yield
    keys_invalidate(everywhere=False)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block registers for after commit, as the commit of a ``db`` test would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def group_rep(request):
    """The filings tests' representative (``rep`` of tests/filings/conftest.py)."""
    return request.getfixturevalue("rep")


@pytest.fixture
def street_reviewer(request):
    """A reviewer of the street office that reviews the filings."""
    return request.getfixturevalue("reviewer")


@pytest.fixture
def street_reviewer2(request):
    return request.getfixturevalue("reviewer2")
