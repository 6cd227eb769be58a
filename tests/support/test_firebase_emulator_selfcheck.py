"""Self-check: the real Auth emulator issues phone ID tokens that firebase-admin accepts.

Run alone with: ``.venv/bin/python -m pytest tests/support -p no:django --noconftest -q``
(``--noconftest``: tests/conftest.py has Django-only autouse fixtures), or just
``.venv/bin/python -m pytest tests/support`` with the Django plugin on.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support.firebase_emulator import (
    EMULATOR_HOST_ENV,
    AuthEmulator,
    emulator_available,
    firebase_auth_emulator,  # noqa: F401 - fixture
    require_or_skip,
    sign_in_with_email,
    sign_in_with_phone,
)

pytestmark = pytest.mark.emulator

PHONE = "+8613800138000"


@pytest.fixture
def admin_app(firebase_auth_emulator: AuthEmulator):  # noqa: F811
    firebase_admin = pytest.importorskip("firebase_admin")
    # The SDK reads FIREBASE_AUTH_EMULATOR_HOST when the app's auth client is first built.
    assert os.environ[EMULATOR_HOST_ENV] == firebase_auth_emulator.host
    app = firebase_admin.initialize_app(
        options={"projectId": "demo-linli"}, name=f"selfcheck-{uuid.uuid4().hex[:8]}"
    )
    try:
        yield app
    finally:
        firebase_admin.delete_app(app)


def test_emulator_is_on_a_loopback_port(firebase_auth_emulator: AuthEmulator) -> None:  # noqa: F811
    host, _, port = firebase_auth_emulator.host.partition(":")
    assert host == "127.0.0.1"
    assert int(port) > 0
    assert firebase_auth_emulator.running
    assert firebase_auth_emulator.startup_seconds is not None
    print(f"\nFirebase Auth emulator ready in {firebase_auth_emulator.startup_seconds:.1f}s")


def test_phone_token_verifies_with_firebase_admin(
    firebase_auth_emulator: AuthEmulator,  # noqa: F811
    admin_app,
) -> None:
    from firebase_admin import auth

    token = sign_in_with_phone(firebase_auth_emulator.host, PHONE)
    claims = auth.verify_id_token(token, app=admin_app)
    assert claims["phone_number"] == PHONE
    assert claims["firebase"]["sign_in_provider"] == "phone"
    assert claims["aud"] == "demo-linli"

    # Signing in again with the same number yields the same user.
    again = auth.verify_id_token(sign_in_with_phone(firebase_auth_emulator.host, PHONE), app=admin_app)
    assert again["uid"] == claims["uid"]


def test_mangled_token_is_rejected(firebase_auth_emulator: AuthEmulator, admin_app) -> None:  # noqa: F811
    from firebase_admin import auth

    token = sign_in_with_phone(firebase_auth_emulator.host, PHONE)
    header, payload, signature = token.split(".")
    mangled = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    with pytest.raises(auth.InvalidIdTokenError):
        auth.verify_id_token(mangled, app=admin_app)
    with pytest.raises(auth.InvalidIdTokenError):
        auth.verify_id_token(token[:-10] + "not-a-jwt", app=admin_app)


def test_email_password_token_has_password_provider(
    firebase_auth_emulator: AuthEmulator,  # noqa: F811
    admin_app,
) -> None:
    from firebase_admin import auth

    email = f"selfcheck-{uuid.uuid4().hex[:8]}@example.com"
    claims = auth.verify_id_token(sign_in_with_email(firebase_auth_emulator.host, email), app=admin_app)
    assert claims["firebase"]["sign_in_provider"] == "password"
    assert "phone_number" not in claims
    # Existing email: falls back to password sign-in.
    again = auth.verify_id_token(sign_in_with_email(firebase_auth_emulator.host, email), app=admin_app)
    assert again["uid"] == claims["uid"]


def test_reset_deletes_accounts(firebase_auth_emulator: AuthEmulator, admin_app) -> None:  # noqa: F811
    from firebase_admin import auth

    uid = auth.verify_id_token(sign_in_with_phone(firebase_auth_emulator.host, PHONE), app=admin_app)["uid"]
    firebase_auth_emulator.reset()
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(uid, app=admin_app)


def test_context_manager_cleans_up() -> None:
    """A second, independent emulator starts on its own port and its process group is gone after."""
    if emulator_available() is None:
        require_or_skip("Firebase Auth emulator not installed")
    with AuthEmulator() as emu:
        pid = emu._proc.pid  # type: ignore[union-attr]
        assert sign_in_with_phone(emu.host, "+8613900139000").count(".") == 2
        tmpdir = emu._tmpdir
    assert not emu.running
    assert tmpdir is not None and not tmpdir.exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
