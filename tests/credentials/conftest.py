"""Fixtures of the credentials domain."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_signing_keys(settings):
    """The key cache lives in the process; each test's database starts without keys."""
    from backend.core import keys

    keys.keys_invalidate(everywhere=False)
    yield
    keys.keys_invalidate(everywhere=False)
