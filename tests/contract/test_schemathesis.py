"""Schemathesis finds no server error and no response that breaks the published contract, for
the public and for a volunteer, a coordinator, a reviewer and a platform admin.

Bounded with the suite; ``LINLI_FUZZ=long`` for the long run (see ``tests/contract/fuzz.py``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.contract import fuzz


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _loop_connections_closed():
    """The fast paths read on the transport's event loops through connections of their own:
    closed after each run, or PostgreSQL's test database cannot be dropped at the end."""
    yield
    from api.volunteers import fastpath
    from backend.credentials.lookup import db

    for readers in (fastpath.readers, db.readers):
        readers.close_everywhere()


@pytest.mark.parametrize("identity", fuzz.IDENTITIES)
def test_fuzzing_finds_no_server_error_and_no_contract_break(demo_data, identity, capsys):
    report = fuzz.run(identity)
    with capsys.disabled():
        print("\nschemathesis", report.summary())
    assert report.requests > 100, report.details()
    assert not report.server_errors, report.details()
    assert not report.contract, report.details()
    assert not report.failures, report.details()
    assert not report.errors, report.details()
