"""Sign-in with wx.login and the phone number, binding and unbinding, and WeChat's errors."""

from __future__ import annotations

import pytest

from backend.accounts.models import AuthSession, User
from backend.wechat.models import WeChatAccount
from tests.factories import UserFactory
from tests.helpers import ApiClient, assert_error
from tests.wechat.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_first_sign_in_asks_for_the_phone_then_creates_the_account(api, wechat):
    openid = "oFirstUser0000000000000000001"
    first = api.post("/auth/wechat", {"code": wechat.issue_login(openid)})
    assert_error(first, 409, "wechat_phone_required")
    assert not User.objects.filter(phone="13800138000").exists()

    response = api.post(
        "/auth/wechat",
        {"code": wechat.issue_login(openid), "phone_code": wechat.issue_phone_code("13800138000")},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["user"]["phone"] == "13800138000"
    user = User.objects.get(phone="13800138000")
    assert WeChatAccount.objects.get(user=user).openid == openid
    assert AuthSession.objects.get(user=user).method == "wechat"
    me = ApiClient().request("get", "/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user.pk


def test_second_sign_in_needs_the_code_alone_and_never_asks_for_the_phone_again(api, wechat):
    first = sign_in(api, wechat, openid="oReturning000000000000000001")
    phone_calls = len(wechat.calls("wxa/business/getuserphonenumber"))
    response = api.post("/auth/wechat", {"code": wechat.issue_login("oReturning000000000000000001")})
    assert response.status_code == 200, response.json()
    assert response.json()["user"]["id"] == first["user"]["id"]
    assert len(wechat.calls("wxa/business/getuserphonenumber")) == phone_calls == 1


def test_the_session_key_never_leaves_the_server(api, wechat):
    body = sign_in(api, wechat)
    assert "session_key" not in str(body)
    account = WeChatAccount.objects.get()
    assert (
        account.session_key
        and not account.session_key.startswith(("{", '"'))
        and len(account.session_key) > 30
    )


def test_a_firebase_user_arriving_by_wechat_keeps_one_account(api, wechat):
    existing = UserFactory(phone="13900139000", firebase_uid="firebase-uid-1")
    body = sign_in(api, wechat, phone="13900139000")
    assert body["user"]["id"] == existing.pk
    assert User.objects.filter(phone="13900139000").count() == 1
    assert WeChatAccount.objects.get().user_id == existing.pk


def test_an_invalid_code_is_401_wechat_code_invalid(api, wechat):
    assert_error(api.post("/auth/wechat", {"code": "not-a-code"}), 401, "wechat_code_invalid")


def test_an_expired_code_is_401_wechat_code_invalid(api, wechat):
    code = wechat.issue_login()
    wechat.age_codes(301)
    assert_error(api.post("/auth/wechat", {"code": code}), 401, "wechat_code_invalid")


def test_a_used_code_is_401_wechat_code_used(api, wechat):
    code = wechat.issue_login()
    api.post("/auth/wechat", {"code": code})
    assert_error(api.post("/auth/wechat", {"code": code}), 401, "wechat_code_used")


def test_wechat_rate_limit_is_429(api, wechat):
    wechat.fail("sns/jscode2session", 45011)
    assert_error(api.post("/auth/wechat", {"code": wechat.issue_login()}), 429, "wechat_rate_limited")


def test_busy_wechat_is_retried_a_bounded_number_of_times_then_503(api, wechat, settings):
    settings.WECHAT_BUSY_RETRIES = 2
    wechat.fail("sns/jscode2session", -1, times=3)
    assert_error(api.post("/auth/wechat", {"code": wechat.issue_login()}), 503, "wechat_unavailable")
    assert len(wechat.calls("sns/jscode2session")) == 3


def test_busy_wechat_that_recovers_within_the_retries_signs_in(api, wechat):
    wechat.fail("sns/jscode2session", -1, times=1)
    openid = "oBusyOnce000000000000000000001"
    response = api.post("/auth/wechat", {"code": wechat.issue_login(openid)})
    assert_error(response, 409, "wechat_phone_required")


def test_unreachable_wechat_is_503(api, wechat, settings):
    from bench.harness import free_port

    settings.WECHAT_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.WECHAT_BUSY_RETRIES = 1
    assert_error(api.post("/auth/wechat", {"code": "abc"}), 503, "wechat_unavailable")


def test_a_wrong_app_secret_is_an_outage_for_clients_not_a_500(api, wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong-secret"
    assert_error(api.post("/auth/wechat", {"code": wechat.issue_login()}), 503, "wechat_unavailable")


def test_without_configuration_the_endpoint_is_503_and_nothing_is_called(api, settings, wechat_standin):
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_APP_SECRET = ""
    settings.WECHAT_API_BASE = wechat_standin.base_url
    assert_error(api.post("/auth/wechat", {"code": "abc"}), 503, "wechat_not_configured")
    assert wechat_standin.state.requests == []


def test_an_invalid_phone_code_is_422(api, wechat):
    openid = "oBadPhone000000000000000000001"
    api.post("/auth/wechat", {"code": wechat.issue_login(openid)})
    response = api.post("/auth/wechat", {"code": wechat.issue_login(openid), "phone_code": "nope"})
    assert_error(response, 422, "wechat_phone_code_invalid")
    assert not WeChatAccount.objects.exists()


def test_a_phone_outside_the_mainland_is_refused(api, wechat):
    openid = "oAbroad0000000000000000000001"
    api.post("/auth/wechat", {"code": wechat.issue_login(openid)})
    code = wechat.issue_phone_code("91234567", country_code="852")
    response = api.post("/auth/wechat", {"code": wechat.issue_login(openid), "phone_code": code})
    assert_error(response, 422, "wechat_phone_not_mainland")


def test_a_signed_in_user_binds_and_unbinds_wechat(api, wechat):
    user = UserFactory()
    client = api.as_user(user)
    assert client.get("/me/wechat").json()["bound"] is False
    response = client.post("/me/wechat", {"code": wechat.issue_login("oBinder00000000000000000000001")})
    assert response.status_code == 200, response.json()
    assert response.json()["bound"] is True
    assert WeChatAccount.objects.get(user=user).openid == "oBinder00000000000000000000001"
    # Sign-in by WeChat now reaches this account without a phone number.
    signin = api.post("/auth/wechat", {"code": wechat.issue_login("oBinder00000000000000000000001")})
    assert signin.json()["user"]["id"] == user.pk
    assert client.delete("/me/wechat").json() == {"ok": True}
    assert not WeChatAccount.objects.filter(user=user).exists()
    assert_error(client.delete("/me/wechat"), 404, "wechat_not_bound")
    again = api.post("/auth/wechat", {"code": wechat.issue_login("oBinder00000000000000000000001")})
    assert_error(again, 409, "wechat_phone_required")


def test_an_openid_bound_to_another_account_is_409(api, wechat):
    sign_in(api, wechat, openid="oTaken000000000000000000000001", phone="13800138001")
    other = api.as_user(UserFactory())
    response = other.post("/me/wechat", {"code": wechat.issue_login("oTaken000000000000000000000001")})
    assert_error(response, 409, "wechat_bound_elsewhere")


def test_a_second_wechat_for_one_account_is_409(api, wechat):
    user = UserFactory()
    client = api.as_user(user)
    client.post("/me/wechat", {"code": wechat.issue_login("oFirstWx00000000000000000000001")})
    response = client.post("/me/wechat", {"code": wechat.issue_login("oSecondWx0000000000000000000001")})
    assert_error(response, 409, "wechat_account_mismatch")
    assert WeChatAccount.objects.get(user=user).openid == "oFirstWx00000000000000000000001"


def test_binding_needs_a_signed_in_user(api, wechat):
    assert_error(api.post("/me/wechat", {"code": wechat.issue_login()}), 401, "not_authenticated")
