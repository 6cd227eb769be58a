"""The signing-key store: sign/verify by purpose, rotation, revocation, JWKS, the no-query hot path."""

from __future__ import annotations

import base64
import io
import json
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from backend.core import keys
from backend.core.crypto import unseal
from backend.core.models import AuditLog, SigningKey
from backend.core.signed_tokens import CREDENTIAL_DOMAIN, TokenError, parse_token, sign_token

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 1)
ID = bytes.fromhex("00112233445566778899")


def _sign(purpose="credential", token_id=ID, issued=TODAY, expires=TODAY + timedelta(days=365)):
    return keys.token_sign(purpose=purpose, token_id=token_id, issued=issued, expires=expires)


def test_first_signature_creates_a_sealed_active_key():
    token = _sign()
    row = SigningKey.objects.get()
    assert (row.purpose, row.status) == ("credential", "active")
    seed = base64.urlsafe_b64decode(unseal(row.private_key_sealed, purpose="core.signing_key") + "==")
    assert len(seed) == 32 and seed.hex() not in row.private_key_sealed
    payload = keys.token_verify(purpose="credential", token=token, today=TODAY)
    assert (payload.key_id, payload.token_id, payload.expires_day) == (
        row.kid,
        ID,
        TODAY + timedelta(days=365),
    )
    assert AuditLog.objects.filter(action="signing_key.create").count() == 1


def test_signing_records_how_long_the_keys_tokens_live():
    _sign(expires=date(2027, 5, 1))
    _sign(expires=date(2027, 3, 1))
    assert SigningKey.objects.get().last_expiry == date(2027, 5, 1)
    _sign(purpose="pass", expires=None)
    assert SigningKey.objects.get(purpose="pass").signed_unexpiring is True


def test_a_token_of_one_purpose_does_not_verify_for_the_other():
    token = _sign(purpose="pass")
    _sign(purpose="credential")
    with pytest.raises(TokenError) as exc:
        keys.token_verify(purpose="credential", token=token, today=TODAY)
    assert exc.value.code == "unknown_key"


def test_expired_token_is_refused_but_names_its_payload():
    token = _sign(expires=TODAY)
    assert keys.token_verify(purpose="credential", token=token, today=TODAY).token_id == ID
    with pytest.raises(TokenError) as exc:
        keys.token_verify(purpose="credential", token=token, today=TODAY + timedelta(days=1))
    assert exc.value.code == "expired" and exc.value.payload.token_id == ID
    assert (
        keys.token_verify(
            purpose="credential", token=token, today=TODAY + timedelta(days=1), check_expiry=False
        ).token_id
        == ID
    )


def test_rotation_signs_with_a_new_key_and_the_old_key_still_verifies():
    old_token = _sign()
    old = SigningKey.objects.get()
    new = keys.key_rotate(purpose="credential")
    old.refresh_from_db()
    assert old.status == "retired" and old.retired_at is not None and new.status == "active"
    new_token = _sign()
    assert parse_token(new_token)[0].key_id == new.kid != old.kid
    assert keys.token_verify(purpose="credential", token=old_token, today=TODAY).key_id == old.kid
    assert keys.token_verify(purpose="credential", token=new_token, today=TODAY).key_id == new.kid


def test_revoked_key_stops_verifying_at_once():
    token = _sign()
    keys.token_verify(purpose="credential", token=token, today=TODAY)
    keys.key_revoke(kid=SigningKey.objects.get().kid, reason="leaked")
    with pytest.raises(TokenError) as exc:
        keys.token_verify(purpose="credential", token=token, today=TODAY)
    assert exc.value.code == "revoked_key"
    assert AuditLog.objects.filter(action="signing_key.revoke", reason="leaked").exists()


def test_revocation_in_another_process_is_seen_after_the_recheck_interval(
    settings, django_assert_num_queries
):
    settings.LINLI_SIGNING_KEYS_RECHECK = 0  # every verification may look at the version key
    token = _sign()
    keys.token_verify(purpose="credential", token=token, today=TODAY)
    # Another process revokes: the row changes and the shared version key moves; ours is untouched.
    SigningKey.objects.update(status="revoked", revoked_at=timezone.now())
    with django_assert_num_queries(0):
        keys.token_verify(purpose="credential", token=token, today=TODAY)  # version unchanged: cached
    cache.set(keys.VERSION_CACHE_KEY, "moved", None)
    with pytest.raises(TokenError) as exc:
        keys.token_verify(purpose="credential", token=token, today=TODAY)
    assert exc.value.code == "revoked_key"


def test_verification_with_warm_keys_costs_no_query(django_assert_num_queries):
    token = _sign()
    keys.token_verify(purpose="credential", token=token, today=TODAY)
    forged = sign_token(
        parse_token(token)[0], private_key=Ed25519PrivateKey.generate(), domain=CREDENTIAL_DOMAIN
    )
    with django_assert_num_queries(0):
        keys.token_verify(purpose="credential", token=token, today=TODAY)
        with pytest.raises(TokenError):
            keys.token_verify(purpose="credential", token=forged, today=TODAY)


def test_jwks_lists_active_and_live_retired_keys_but_not_revoked_or_spent_ones():
    _sign(expires=timezone.localdate() + timedelta(days=30))
    first = SigningKey.objects.get()
    keys.key_rotate(purpose="credential")
    _sign(expires=timezone.localdate() + timedelta(days=1))
    second = SigningKey.objects.get(status="active")
    keys.key_rotate(purpose="credential")
    third = SigningKey.objects.get(status="active")
    _sign(purpose="pass")
    pass_key = SigningKey.objects.get(purpose="pass")
    keys.key_revoke(kid=pass_key.kid, reason="test")
    # The second key's tokens all expire today + 1: it stays published; move its bound into the past.
    SigningKey.objects.filter(pk=second.pk).update(last_expiry=timezone.localdate() - timedelta(days=1))
    keys.keys_invalidate(everywhere=False)
    jwks = keys.public_jwks()
    kids = {k["kid"]: k for k in jwks["keys"]}
    assert set(kids) == {str(first.kid), str(third.kid)}
    assert kids[str(first.kid)]["status"] == "retired" and kids[str(third.kid)]["status"] == "active"
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in jwks["keys"])
    assert keys.public_jwks("pass") == {"keys": []}


def test_key_file_keys_sign_without_a_private_key_in_the_database(settings, tmp_path):
    seed = bytes(range(32))  # the fixed test-vector seed (tests/core/test_signed_tokens.py)
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {"keys": [{"kid": 1, "purpose": "credential", "seed": base64.urlsafe_b64encode(seed).decode()}]}
        )
    )
    settings.LINLI_SIGNING_KEY_FILE = str(path)
    call_command("rotate_signing_keys", "--import-file", stdout=io.StringIO())
    row = SigningKey.objects.get()
    assert (row.kid, row.status, row.private_key_sealed) == (1, "active", "")
    token = keys.token_sign(
        purpose="credential", token_id=ID, issued=date(2025, 1, 1), expires=date(2027, 12, 31)
    )
    # The pinned credential vector of the core tests: the same key and payload give the same token.
    assert token == (
        "AEAACAAREIZUIVLGO6EJSBZDBNUQJ6QKP7AYSWCRZZ2KORCYPZPOFQBQW4Z6KDS2"
        "V7J3BXZVIZUJF5TZ5HJZID6OI6MLULOPVCIN4CICDYBXY54WOR75WI4KGO3V3M27AU"
    )


def test_rotate_command_rotates_and_revokes(capsys):
    _sign()
    old = SigningKey.objects.get()
    call_command("rotate_signing_keys", "--purpose", "credential")
    assert SigningKey.objects.get(status="active").kid != old.kid
    call_command("rotate_signing_keys", "--revoke", str(old.kid), "--reason", "test")
    old.refresh_from_db()
    assert old.status == "revoked"
