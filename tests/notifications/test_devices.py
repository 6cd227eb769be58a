"""Device registration rules: one row per address, moved between users, removed on logout."""

from __future__ import annotations

import pytest

from backend.core.models import AuditLog
from backend.notifications.models import Device
from tests.factories import UserFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "fcm-token_abc:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"


def test_register_creates_one_row_and_again_is_idempotent(api, user):
    client = api.as_user(user)
    first = client.post("/me/devices", {"token": TOKEN, "platform": "android"})
    assert first.status_code == 200, first.json()
    again = client.post("/me/devices", {"token": TOKEN, "platform": "android"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Device.objects.filter(token=TOKEN).count() == 1
    assert AuditLog.objects.filter(action="device.registered").count() == 1


def test_address_moves_to_the_user_who_signs_in_on_the_phone(api, user):
    other = UserFactory()
    api.as_user(user).post("/me/devices", {"token": TOKEN, "platform": "ios"})
    response = api.as_user(other).post("/me/devices", {"token": TOKEN, "platform": "ios"})
    assert response.status_code == 200
    device = Device.objects.get(token=TOKEN)
    assert device.user_id == other.pk
    assert not Device.objects.filter(user=user).exists()
    moved = AuditLog.objects.get(action="device.moved")
    assert moved.data["from_user"] == user.pk and moved.data["to_user"] == other.pk


def test_register_remembers_the_sign_in_session(api, user):
    client = api.as_user(user)
    client.post("/me/devices", {"token": TOKEN, "platform": "android"})
    device = Device.objects.get(token=TOKEN)
    assert device.session is not None and device.session.user_id == user.pk


def test_fid_addresses_are_registered_as_such(api, user):
    response = api.as_user(user).post(
        "/me/devices", {"token": "cHVzaC1maWQtMTIzNDU2", "platform": "android", "token_type": "fid"}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "fid"


@pytest.mark.parametrize("token", ["short", "has spaces in it", "令牌令牌令牌令牌令牌", "x" * 5000])
def test_malformed_tokens_are_refused(api, user, token):
    response = api.as_user(user).post("/me/devices", {"token": token, "platform": "android"})
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid_device_token", "validation_error"}
    assert not Device.objects.exists()


def test_unknown_platform_is_refused(api, user):
    response = api.as_user(user).post("/me/devices", {"token": TOKEN, "platform": "symbian"})
    body = assert_error(response, 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "platform"


def test_listing_shows_a_hint_never_the_address(api, user):
    api.as_user(user).post("/me/devices", {"token": TOKEN, "platform": "android"})
    response = api.as_user(user).get("/me/devices")
    assert response.status_code == 200
    [device] = response.json()
    assert TOKEN not in response.content.decode()
    assert device["token_hint"] == TOKEN[:6] + "…"


def test_delete_on_logout_removes_only_own_address(api, user):
    other = UserFactory()
    api.as_user(other).post("/me/devices", {"token": TOKEN, "platform": "android"})
    response = api.as_user(user).delete("/me/devices", {"token": TOKEN})
    assert response.status_code == 200
    assert Device.objects.filter(token=TOKEN, user=other).exists()

    response = api.as_user(other).delete("/me/devices", {"token": TOKEN})
    assert response.status_code == 200
    assert not Device.objects.filter(token=TOKEN).exists()
    assert AuditLog.objects.filter(action="device.unregistered").count() == 1
    # idempotent
    assert api.as_user(other).delete("/me/devices", {"token": TOKEN}).status_code == 200


def test_a_user_keeps_at_most_the_configured_number_of_devices(api, user, settings):
    settings.LINLI_PUSH_MAX_DEVICES = 3
    client = api.as_user(user)
    for i in range(5):
        client.post("/me/devices", {"token": f"{TOKEN}-{i}", "platform": "android"})
    kept = set(Device.objects.filter(user=user).values_list("token", flat=True))
    assert kept == {f"{TOKEN}-{i}" for i in (2, 3, 4)}


def test_devices_need_a_signed_in_user(api):
    assert_error(api.post("/me/devices", {"token": TOKEN, "platform": "android"}), 401, "not_authenticated")
