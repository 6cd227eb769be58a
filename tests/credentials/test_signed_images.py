"""The images of the credentials domain reach a mini-program without an Authorization header:
practitioner photos and thumbnails, the badge QR and the printable badge as short-lived signed
URLs; the practitioner photo goes to WeChat's image check, and a risky one leaves the public
lookup and the badge (the association's admins still see it, flagged)."""

from __future__ import annotations

import io
import re
import urllib.parse

import pytest
from django.test import Client
from PIL import Image

from backend.wechat.models import ContentCheck
from tests.credentials import factories as f
from tests.helpers import ApiClient
from tests.support import signed_media
from tests.support.qr import read_qr
from tests.support.wechat_fixtures import MSG_TOKEN, wechat_person

pytestmark = pytest.mark.django_db


def jpeg(size=(600, 800), colour=(200, 120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def assoc():
    return f.association("深圳市燃气行业协会")


@pytest.fixture
def setup(settings, assoc):
    settings.LINLI_PUBLIC_HOST = "linli.shenzhen.example.cn"
    settings.LINLI_PUBLIC_SCHEME = "https"
    credential = f.credential(f.practitioner(assoc))
    return ApiClient(f.association_admin(assoc)), credential


def upload_photo(admin: ApiClient, credential, capture) -> dict:
    path = f"/associations/{credential.association_id}/practitioners/{credential.practitioner_id}/photo"
    with capture(execute=True):
        response = admin.upload(path, {"file": ("me.jpg", jpeg(), "image/jpeg")})
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_badge_qr_and_badge_load_by_signed_url_and_lead_to_the_lookup(setup):
    admin, credential = setup
    body = admin.get(f"/credentials/{credential.pk}").json()
    assert body["qr_signed_url"].startswith("https://linli.shenzhen.example.cn/m/")
    (decoded,) = read_qr(signed_media.fetch_ok(body["qr_signed_url"]))
    assert decoded == body["verify_url"]
    badge = Image.open(io.BytesIO(signed_media.fetch_ok(body["badge_signed_url"])))
    assert badge.format == "PNG" and max(badge.size) / min(badge.size) == pytest.approx(85.6 / 54, rel=0.02)
    signed_media.assert_refused_when_altered(body["badge_signed_url"])


def test_a_reissued_badge_gets_new_urls_and_the_old_ones_stop_working(setup):
    admin, credential = setup
    before = admin.get(f"/credentials/{credential.pk}").json()
    signed_media.fetch_ok(before["qr_signed_url"])  # drawn and cached
    after = admin.post(f"/credentials/{credential.pk}/reissue-badge", {"reason": "遗失"}).json()
    assert after["qr_signed_url"] != before["qr_signed_url"]
    (decoded,) = read_qr(signed_media.fetch_ok(after["qr_signed_url"]))
    assert decoded.endswith(after["verify_url"].rsplit("/", 1)[1])
    assert signed_media.fetch(before["badge_signed_url"])[0] == 404  # never drawn: stale, not drawn now


def test_the_credential_list_signs_without_drawing(setup, django_assert_max_num_queries):
    admin, credential = setup
    with django_assert_max_num_queries(6):
        items = admin.get(f"/associations/{credential.association_id}/credentials").json()["items"]
    assert items[0]["badge_signed_url"].endswith(".png")
    from django.core.files.storage import default_storage

    name = urllib.parse.urlsplit(items[0]["badge_signed_url"]).path.split("/", 4)[4]
    assert not default_storage.exists(name)  # drawn on the first fetch only


def test_the_photo_and_thumbnail_load_by_signed_url(setup, django_capture_on_commit_callbacks):
    admin, credential = setup
    body = upload_photo(admin, credential, django_capture_on_commit_callbacks)
    assert body["photo_hidden"] is False
    photo = Image.open(io.BytesIO(signed_media.fetch_ok(body["photo_url"])))
    thumb = Image.open(io.BytesIO(signed_media.fetch_ok(body["photo_thumb_url"])))
    assert max(thumb.size) <= 240 < max(photo.size)
    lookup = Client().get(f"/api/v1/verify/{credential.token}").json()
    assert signed_media.fetch_ok(lookup["credential"]["photo_url"]) == signed_media.fetch_ok(
        body["photo_thumb_url"]
    )


def test_a_photo_by_an_admin_without_wechat_is_unchecked_and_shown(
    setup, wechat, django_capture_on_commit_callbacks
):
    admin, credential = setup
    upload_photo(admin, credential, django_capture_on_commit_callbacks)
    assert wechat.calls("wxa/media_check_async") == []
    assert ContentCheck.objects.get(kind="image").status == "unchecked"
    assert Client().get(f"/api/v1/verify/{credential.token}").json()["credential"]["photo_url"]


def test_a_risky_photo_leaves_the_lookup_and_the_badge(
    api, assoc, settings, wechat, django_capture_on_commit_callbacks
):
    credential = f.credential(f.practitioner(assoc))
    admin_user = wechat_person(api, wechat, phone="13700137020", openid="oAssociationAdmin0000000000001")
    from backend.accounts.models import Role, ScopeType
    from backend.accounts.services import grant_role

    grant_role(
        user=admin_user, role=Role.ASSOCIATION_ADMIN, scope_type=ScopeType.ASSOCIATION, scope_id=str(assoc.pk)
    )
    admin = ApiClient(admin_user)
    upload_photo(admin, credential, django_capture_on_commit_callbacks)
    (call,) = wechat.calls("wxa/media_check_async")
    assert call["openid"] == "oAssociationAdmin0000000000001" and call["scene"] == 1
    assert signed_media.fetch(call["media_url"])[0] == 200  # WeChat can download it
    badge_before = admin.get(f"/credentials/{credential.pk}").json()["badge_signed_url"]
    with_photo = signed_media.fetch_ok(badge_before)

    check = ContentCheck.objects.get(kind="image")
    params, body = wechat.media_verdict(check.trace_id, "risky", msg_token=MSG_TOKEN)
    Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )

    lookup = Client().get(f"/api/v1/verify/{credential.token}").json()
    assert lookup["status"] == "valid" and lookup["credential"]["photo_url"] is None
    page = Client().get(f"/v/{credential.token}").content.decode()
    assert "无照片" in page and not re.search(r"<img src=", page)
    shown = admin.get(f"/associations/{assoc.pk}/practitioners/{credential.practitioner_id}").json()
    assert shown["photo_hidden"] is True and shown["photo_url"]  # the admins still see it
    badge_after = admin.get(f"/credentials/{credential.pk}").json()["badge_signed_url"]
    assert badge_after != badge_before  # drawn again, without the photo
    without_photo = signed_media.fetch_ok(badge_after)
    assert without_photo != with_photo
    from backend.credentials.badges import credential_badge_png
    from backend.credentials.selectors import credential_get

    assert without_photo == credential_badge_png(credential_get(credential_id=credential.pk))
