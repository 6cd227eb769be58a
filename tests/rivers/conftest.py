from __future__ import annotations

import pytest

from tests.rivers import factories as f
from tests.support.wechat_fixtures import wechat, wechat_standin  # noqa: F401 - content checks


@pytest.fixture
def segment(db):
    return f.river_with_segment()


@pytest.fixture
def org(db):
    return f.organisation()


@pytest.fixture
def chief(segment, org):
    return f.river_chief(segment, org, name="王河长")


@pytest.fixture
def coordinator(org):
    return f.coordinator_of(org)


@pytest.fixture
def handler(db):
    f.divisions()
    return f.handler_of(f.STREET, display_name="李处置")
