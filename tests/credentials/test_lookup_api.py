"""GET /api/v1/verify/{token}: the live status behind a badge, signature first, no-store, logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from backend.core import keys
from backend.core.signed_tokens import CREDENTIAL_DOMAIN, parse_token, sign_token
from backend.credentials import services
from backend.credentials.lookup.log import lookup_log
from backend.credentials.models import Credential, LookupLog
from tests.credentials import factories as f

pytestmark = pytest.mark.django_db


def _verify(api, token, **headers):
    return api.get(f"/verify/{token}", headers=headers or None)


def _forge(token: str) -> str:
    payload, _, _ = parse_token(token)
    return sign_token(payload, private_key=Ed25519PrivateKey.generate(), domain=CREDENTIAL_DOMAIN)


def test_valid_credential_reads_valid_with_masked_name_and_no_numbers(api):
    credential = f.valid_credential()
    response = _verify(api, credential.token)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "valid" and body["genuine"] is True and body["status_text"] == "有效"
    c = body["credential"]
    assert c["masked_name"] == "张*三"
    assert c["employer"] == "深圳市安心燃气服务有限公司"
    assert c["valid_until"] == credential.valid_until.isoformat()
    text = response.content.decode()
    assert "张小三" not in text and "13800138000" not in text
    assert credential.practitioner.mobile not in text
    from backend.core.crypto import unseal

    number = unseal(credential.practitioner.id_number_sealed, purpose=services.ID_PURPOSE)
    assert number not in text and number[-6:] not in text


def test_lower_case_token_is_the_same_badge(api):
    credential = f.valid_credential()
    assert _verify(api, credential.token.lower()).json()["status"] == "valid"


def test_forged_token_reads_not_genuine_without_any_query(api, django_assert_num_queries):
    credential = f.valid_credential()
    _verify(api, credential.token)  # keys are now cached in this process
    forged = _forge(credential.token)
    with django_assert_num_queries(0):
        response = _verify(api, forged)
    body = response.json()
    assert body == {**body, "status": "not_genuine", "genuine": False, "credential": None}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("mangle", ["flip", "truncate", "garbage"])
def test_altered_tokens_read_not_genuine_without_any_query(api, django_assert_num_queries, mangle):
    credential = f.valid_credential()
    _verify(api, credential.token)
    token = credential.token
    altered = {
        "flip": token[:40] + ("A" if token[40] != "A" else "B") + token[41:],
        "truncate": token[:-8],
        "garbage": "HELLO-WORLD",
    }[mangle]
    with django_assert_num_queries(0):
        assert _verify(api, altered).json()["status"] == "not_genuine"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda c: services.credential_suspend(actor=None, credential=c, reason="投诉调查中"), "suspended"),
        (lambda c: services.credential_revoke(actor=None, credential=c, reason="违规操作"), "revoked"),
        (
            lambda c: services.practitioner_blacklist(
                actor=None,
                practitioner=c.practitioner,
                listed_on=timezone.localdate(),
                reason="违规",
                basis="协会章程",
            ),
            "blacklisted",
        ),
        (
            lambda c: services.practitioner_update(actor=None, practitioner=c.practitioner, status="left"),
            "revoked",
        ),
    ],
)
def test_status_changes_show_at_the_next_scan(api, change, status):
    credential = f.valid_credential()
    assert _verify(api, credential.token).json()["status"] == "valid"
    change(credential)
    assert _verify(api, credential.token).json()["status"] == status


def test_expired_credential_reads_expired(api):
    today = timezone.localdate()
    credential = f.valid_credential(
        valid_from=today - timedelta(days=400), valid_until=today - timedelta(days=1)
    )
    assert _verify(api, credential.token).json()["status"] == "expired"


def test_credential_not_yet_valid(api):
    today = timezone.localdate()
    credential = f.valid_credential(
        valid_from=today + timedelta(days=3), valid_until=today + timedelta(days=300)
    )
    assert _verify(api, credential.token).json()["status"] == "not_yet_valid"


def test_reissued_badge_makes_the_old_qr_revoked(api):
    credential = f.valid_credential()
    old = credential.token
    services.credential_reissue_badge(actor=None, credential=credential, reason="工牌遗失")
    assert _verify(api, old).json()["status"] == "revoked"
    assert _verify(api, Credential.objects.get().token).json()["status"] == "valid"


def test_revoked_signing_key_reads_not_genuine(api):
    credential = f.valid_credential()
    keys.key_revoke(kid=parse_token(credential.token)[0].key_id, reason="泄露")
    assert _verify(api, credential.token).json()["status"] == "not_genuine"


def test_rotated_key_still_verifies_old_badges(api):
    credential = f.valid_credential()
    keys.key_rotate(purpose="credential")
    newer = f.valid_credential()
    assert parse_token(newer.token)[0].key_id != parse_token(credential.token)[0].key_id
    assert _verify(api, credential.token).json()["status"] == "valid"
    assert _verify(api, newer.token).json()["status"] == "valid"


def test_event_pass_token_is_not_a_credential(api):
    credential = f.valid_credential()
    payload = parse_token(credential.token)[0]
    pass_token = keys.token_sign(
        purpose="pass", token_id=payload.token_id, issued=payload.issued_day, expires=payload.expires_day
    )
    assert _verify(api, pass_token).json()["status"] == "not_genuine"


def test_every_lookup_is_logged_with_coarse_client_info(api):
    credential = f.valid_credential()
    _verify(api, credential.token, **{"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"})
    _verify(api, _forge(credential.token))
    assert lookup_log.flush() == 2
    valid, forged = LookupLog.objects.order_by("id")
    assert (valid.result, valid.channel, valid.credential_id) == ("valid", "api", credential.pk)
    assert valid.token_id == credential.token_id and valid.association_id == credential.association_id
    assert valid.client_net == "127.0.0.0/24" and valid.client_kind == "wechat"
    assert (forged.result, forged.detail, forged.token_id, forged.credential_id) == (
        "not_genuine",
        "bad_signature",
        "",
        None,
    )


def test_rate_limit_per_client_address_with_error_body(api, settings):
    settings.LINLI_LOOKUP_RATE = "2/m"
    credential = f.valid_credential()
    assert _verify(api, credential.token).status_code == 200
    assert _verify(api, credential.token).status_code == 200
    response = _verify(api, credential.token)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and int(response["Retry-After"]) >= 1
    # Another client address is not affected.
    other = api.client.get(f"/api/v1/verify/{credential.token}", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200
    lookup_log.flush()
    assert LookupLog.objects.filter(result="rate_limited").count() == 1


def test_rate_limit_honours_the_trusted_proxy_header(api, settings):
    settings.LINLI_LOOKUP_RATE = "1/m"
    settings.NINJA_NUM_PROXIES = 1
    credential = f.valid_credential()
    path = f"/api/v1/verify/{credential.token}"
    assert api.client.get(path, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 200
    assert api.client.get(path, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert api.client.get(path, HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200
    # A client cannot dodge the limit by prepending addresses: only the proxy's entry counts.
    assert api.client.get(path, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7").status_code == 429


def test_jwks_publishes_the_credential_key(api):
    credential = f.valid_credential()
    response = api.get("/verify/keys")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kid"] == str(parse_token(credential.token)[0].key_id)
    assert (key["kty"], key["crv"], key["alg"], key["purpose"]) == ("OKP", "Ed25519", "EdDSA", "credential")


def test_jwks_key_verifies_a_badge_offline(api):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from backend.core.signed_tokens import verify_token

    credential = f.valid_credential()
    jwk = api.get("/verify/keys").json()["keys"][0]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    payload = verify_token(
        credential.token, domain=CREDENTIAL_DOMAIN, public_key_for={int(jwk["kid"]): public}.get
    )
    assert payload.token_id.hex() == credential.token_id
