import pytest


@pytest.fixture(autouse=True)
def _fresh_keys():
    """Signing keys live in the database; a test database starts without them."""
    from backend.core.keys import keys_invalidate

    keys_invalidate()
    yield
    keys_invalidate()
