"""Phone sign-in through the real Firebase Auth emulator, verified by firebase-admin."""

import base64
import json
import urllib.error
import urllib.request

import pytest

from backend.accounts.models import User
from bench.harness import Server
from tests.helpers import ApiClient, assert_error
from tests.support.firebase_emulator import sign_in_with_email, sign_in_with_phone

pytestmark = [pytest.mark.emulator]


@pytest.mark.django_db
def test_emulator_phone_token_is_exchanged_for_linli_tokens(firebase_auth_emulator):
    id_token = sign_in_with_phone(firebase_auth_emulator.host, "+8613912345678")
    response = ApiClient().post("/auth/firebase", {"id_token": id_token})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["user"]["phone"] == "13912345678"
    user = User.objects.get(phone="13912345678")
    assert user.firebase_uid
    me = ApiClient().get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user.pk


@pytest.mark.django_db
def test_second_sign_in_finds_the_same_user(firebase_auth_emulator):
    first = ApiClient().post(
        "/auth/firebase", {"id_token": sign_in_with_phone(firebase_auth_emulator.host, "+8613912340000")}
    )
    again = ApiClient().post(
        "/auth/firebase", {"id_token": sign_in_with_phone(firebase_auth_emulator.host, "+8613912340000")}
    )
    assert first.json()["user"]["id"] == again.json()["user"]["id"]
    assert User.objects.filter(phone="13912340000").count() == 1


@pytest.mark.django_db
def test_mangled_id_token_is_401(firebase_auth_emulator):
    id_token = sign_in_with_phone(firebase_auth_emulator.host, "+8613912345679")
    head, payload, sig = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["phone_number"] = "+8613800000000"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in ("not-a-token", f"{head}.{forged_payload}.{sig}x", id_token[:-5]):
        assert_error(ApiClient().post("/auth/firebase", {"id_token": bad}), 401, "invalid_id_token")
    assert not User.objects.filter(phone="13800000000").exists()


@pytest.mark.django_db
def test_non_phone_provider_is_refused(firebase_auth_emulator):
    id_token = sign_in_with_email(firebase_auth_emulator.host, "someone@example.com")
    assert_error(ApiClient().post("/auth/firebase", {"id_token": id_token}), 401, "phone_sign_in_required")


@pytest.mark.django_db
def test_foreign_phone_number_is_refused(firebase_auth_emulator):
    id_token = sign_in_with_phone(firebase_auth_emulator.host, "+14155550100")
    assert_error(ApiClient().post("/auth/firebase", {"id_token": id_token}), 422, "invalid_phone")


def _call(url, method="GET", body=None, token=None):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.server
def test_sign_in_refresh_and_logout_through_a_real_daphne(firebase_auth_emulator):
    with Server.linli(env={"FIREBASE_AUTH_EMULATOR_HOST": firebase_auth_emulator.host}) as server:
        id_token = sign_in_with_phone(firebase_auth_emulator.host, "+8613912349999")
        status, tokens = _call(server.url + "/api/v1/auth/firebase", "POST", {"id_token": id_token})
        assert status == 200, tokens
        status, me = _call(server.url + "/api/v1/me", token=tokens["access_token"])
        assert (status, me["phone"]) == (200, "13912349999")
        status, rotated = _call(
            server.url + "/api/v1/auth/refresh", "POST", {"refresh_token": tokens["refresh_token"]}
        )
        assert status == 200 and rotated["refresh_token"] != tokens["refresh_token"]
        status, _ = _call(server.url + "/api/v1/auth/logout", "POST", token=rotated["access_token"])
        assert status == 200
        status, error = _call(server.url + "/api/v1/me", token=rotated["access_token"])
        assert (status, error["code"]) == (401, "invalid_token")
