import time

import pytest

from backend.accounts.models import AuthSession, RefreshToken
from backend.accounts.tokens import access_token_decode, access_token_issue
from backend.core.models import AuditLog
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def dev_login(phone="13800138000", **headers):
    return ApiClient().post("/auth/dev-login", {"phone": phone}, headers=headers or None)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_dev_login_returns_tokens_and_user():
    response = dev_login("+86 138-0013-8000")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "user"}
    assert body["expires_in"] == 900
    assert body["user"]["phone"] == "13800138000"
    assert body["user"]["phone_masked"] == "138****8000"
    assert AuditLog.objects.filter(action="auth.signed_in").count() == 1


def test_me_answers_with_the_access_token():
    tokens = dev_login().json()
    response = ApiClient().get("/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json()["phone"] == "13800138000"
    assert response.json()["roles"] == []


def test_me_without_token_is_401_with_error_body():
    assert_error(ApiClient().get("/me"), 401, "not_authenticated")


def test_forged_access_token_is_401():
    token = dev_login().json()["access_token"]
    head, payload, mac = token.split(".")
    forged = f"{head}.{payload}.{'A' + mac[1:] if mac[0] != 'A' else 'B' + mac[1:]}"
    assert_error(ApiClient().get("/me", headers=bearer(forged)), 401, "invalid_token")
    assert_error(ApiClient().get("/me", headers=bearer("garbage")), 401, "invalid_token")


def test_token_with_altered_payload_is_401():
    token = dev_login().json()["access_token"]
    other, _ = access_token_issue(user_id=999, session_id=1)
    head, _payload, mac = token.split(".")
    spliced = f"{head}.{other.split('.')[1]}.{mac}"
    assert access_token_decode(spliced) is None
    assert_error(ApiClient().get("/me", headers=bearer(spliced)), 401, "invalid_token")


def test_expired_access_token_is_401_token_expired(user):
    session = AuthSession.objects.create(user=user, method="test")
    token, _ = access_token_issue(user_id=user.pk, session_id=session.pk, ttl=-1)
    response = ApiClient(lang="en").get("/me", headers=bearer(token))
    body = assert_error(response, 401, "token_expired")
    assert "refresh" in body["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert access_token_decode(token, now=time.time() - 10) is not None


def test_a_forged_or_mangled_token_stays_invalid_token_not_expired(user):
    session = AuthSession.objects.create(user=user, method="test")
    token, _ = access_token_issue(user_id=user.pk, session_id=session.pk, ttl=-1)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_error(ApiClient().get("/me", headers=bearer(forged)), 401, "invalid_token")
    assert_error(ApiClient().get("/me", headers=bearer("v1.garbage.x")), 401, "invalid_token")


def test_refresh_rotates_the_refresh_token():
    first = dev_login().json()
    response = ApiClient().post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.json()
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert ApiClient().get("/me", headers=bearer(second["access_token"])).status_code == 200
    stored = list(RefreshToken.objects.values_list("token_hash", flat=True))
    assert first["refresh_token"] not in "".join(stored)  # stored hashed, never in clear


def test_reusing_a_spent_refresh_token_ends_the_session():
    first = dev_login().json()
    second = ApiClient().post("/auth/refresh", {"refresh_token": first["refresh_token"]}).json()
    assert_error(
        ApiClient().post("/auth/refresh", {"refresh_token": first["refresh_token"]}),
        401,
        "refresh_token_reused",
    )
    # The thief's replay ends the whole session: the legitimate new tokens stop working too.
    assert_error(
        ApiClient().post("/auth/refresh", {"refresh_token": second["refresh_token"]}),
        401,
        "invalid_refresh_token",
    )
    assert_error(ApiClient().get("/me", headers=bearer(second["access_token"])), 401, "invalid_token")


def test_unknown_refresh_token_is_401():
    assert_error(ApiClient().post("/auth/refresh", {"refresh_token": "nope"}), 401, "invalid_refresh_token")


def test_logout_revokes_access_and_refresh_tokens():
    tokens = dev_login().json()
    response = ApiClient().post("/auth/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert_error(ApiClient().get("/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert_error(
        ApiClient().post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}),
        401,
        "invalid_refresh_token",
    )


def test_logout_ends_only_this_device():
    phone_a = dev_login().json()
    phone_b = dev_login().json()
    ApiClient().post("/auth/logout", headers=bearer(phone_a["access_token"]))
    assert ApiClient().get("/me", headers=bearer(phone_b["access_token"])).status_code == 200


def test_dev_login_refused_when_disabled(settings):
    settings.LINLI_DEV_LOGIN = False
    assert_error(dev_login(), 404, "dev_login_disabled")
    assert not AuthSession.objects.exists()


def test_dev_login_rejects_non_mainland_numbers():
    body = assert_error(dev_login("+1 415 555 0100"), 422, "invalid_phone")
    assert body["details"]["errors"][0]["field"] == "phone"


def test_sign_in_is_throttled_per_client(settings):
    settings.LINLI_SIGNIN_RATE = "3/m"
    codes = [dev_login().status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    response = dev_login()
    body = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert body["details"]["retry_after"] >= 1
    # Another client address is not affected.
    other = ApiClient().client.post(
        "/api/v1/auth/dev-login",
        {"phone": "13800138001"},
        content_type="application/json",
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 200
