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


@pytest.fixture
def api(db) -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()
