"""For tests that talk to a server process of their own (daphne started by the test, with its own
database): the suite's autouse fixtures prepare the test database, cache and keys of *this*
process, which such tests never use. Importing these names into a test module replaces them there:

    from tests.support.own_server import _fresh_cache, _fresh_keys, _isolated_media  # noqa: F401
"""

import pytest


@pytest.fixture(autouse=True)
def _isolated_media() -> None:
    return None


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    return None


@pytest.fixture(autouse=True)
def _fresh_keys() -> None:
    return None
