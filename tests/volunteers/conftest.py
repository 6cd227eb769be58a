from __future__ import annotations

import pytest

from tests.support.wechat_fixtures import wechat, wechat_standin  # noqa: F401 - content checks
from tests.volunteers import factories as f


@pytest.fixture
def org(db):
    return f.organisation()


@pytest.fixture
def coordinator(org):
    return f.coordinator_of(org)


@pytest.fixture
def vol(db):
    return f.volunteer()
