from __future__ import annotations

import pytest

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
