"""Content security: texts checked while the request runs (or later, when WeChat is down);
images checked asynchronously, with the verdict pushed to the signed callback."""

from __future__ import annotations

import io
import re
import urllib.parse

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from backend.notifications.models import Notification
from backend.wechat import selectors
from backend.wechat.errors import ContentRejected
from backend.wechat.models import ContentCheck
from backend.wechat.services import security
from tests.factories import UserFactory
from tests.helpers import ApiClient, admin_client_for
from tests.wechat.conftest import MSG_TOKEN, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(api, wechat):
    from backend.accounts.models import User

    body = sign_in(api, wechat, openid="oAuthor00000000000000000000001", phone="13500135000")
    return User.objects.get(pk=body["user"]["id"])


def test_a_risky_text_is_refused_naming_its_field(author, wechat):
    with pytest.raises(ContentRejected) as refused:
        security.text_check(author=author, texts={"name": "夕阳红合唱团", "purpose": "这里有违禁内容"})
    assert refused.value.details["field"] == "purpose"
    (call,) = [c for c in wechat.calls("wxa/msg_sec_check") if "违禁" in c["content"]]
    assert call["openid"] == "oAuthor00000000000000000000001" and call["version"] == 2 and call["scene"] == 3


def test_a_text_to_review_is_accepted_and_flagged_for_staff(author, wechat):
    target = UserFactory()
    check = security.text_check(
        author=author, texts={"description": "内容待审一下"}, scene=security.Scene.FORUM
    )
    check.attach(target)
    row = ContentCheck.objects.get()
    assert row.status == "review" and row.flagged and row.field == "description"
    assert row.target_id == str(target.pk) and row.text == ""


def test_passing_texts_leave_no_trace(author, wechat):
    security.text_check(author=author, texts={"name": "社区读书会", "purpose": ""}).attach(UserFactory())
    assert not ContentCheck.objects.exists()
    assert len(wechat.calls("wxa/msg_sec_check")) == 1  # empty fields are not sent


def test_a_long_text_is_checked_in_pieces_of_2500_characters(author, wechat):
    security.text_check(author=author, texts={"report": "年度总结" * 1000})
    pieces = wechat.calls("wxa/msg_sec_check")
    assert len(pieces) == 2 and all(len(p["content"]) <= 2500 for p in pieces)


def test_when_wechat_is_down_the_text_is_accepted_and_checked_later(author, wechat):
    wechat.fail("wxa/msg_sec_check", -1)
    target = UserFactory()
    security.text_check(author=author, texts={"purpose": "内容违禁"}).attach(target)
    row = ContentCheck.objects.get()
    assert row.status == "pending" and row.text == "内容违禁"
    assert security.text_checks_retry() == 1
    row.refresh_from_db()
    assert row.status == "risky" and row.flagged


def test_authors_without_wechat_are_not_sent_to_wechat(wechat):
    check = security.text_check(author=UserFactory(), texts={"name": "违禁"})
    assert check.rows == [] and wechat.calls("wxa/msg_sec_check") == []


def test_without_wechat_configuration_nothing_is_checked(settings, author, wechat):
    settings.WECHAT_APP_ID = ""
    assert security.text_check(author=author, texts={"name": "违禁"}).rows == []


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _started(author, wechat, django_capture_on_commit_callbacks) -> tuple[ContentCheck, object]:
    name = default_storage.save("rivers/photos/issue.png", ContentFile(_png()))
    target = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        row = security.image_check_start(owner=author, media=name, target=target, field="photos")
    assert row is not None
    row.refresh_from_db()
    return row, target


def test_an_image_goes_to_wechat_as_a_signed_url_it_can_download(
    author, wechat, django_capture_on_commit_callbacks
):
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    (call,) = wechat.calls("wxa/media_check_async")
    assert call["media_type"] == 2 and call["openid"] == "oAuthor00000000000000000000001"
    assert row.trace_id and row.status == "pending"
    url = urllib.parse.urlsplit(call["media_url"])
    response = Client().get(url.path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_verdict_with_a_bad_signature_is_refused(author, wechat, django_capture_on_commit_callbacks):
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    params, body = wechat.media_verdict(row.trace_id, "risky", msg_token="not-our-token")
    response = Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    row.refresh_from_db()
    assert row.status == "pending"


def test_a_risky_image_is_hidden_and_its_owner_told(author, wechat, django_capture_on_commit_callbacks):
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    hidden = []
    security.image_rejected.register(hidden.append)
    try:
        params, body = wechat.media_verdict(row.trace_id, "risky", msg_token=MSG_TOKEN)
        response = Client().post(
            f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
        )
    finally:
        security.image_rejected.unregister(hidden.append)
    assert response.status_code == 200 and response.content == b"success"
    row.refresh_from_db()
    assert row.status == "risky" and [h.pk for h in hidden] == [row.pk]
    assert selectors.hidden_media([row.media, "other.png"]) == {row.media}
    assert Notification.objects.filter(user=author, kind="wechat.image_rejected").count() == 1
    # WeChat pushes again (it retries when unsure we got it): nothing happens twice.
    Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )
    assert Notification.objects.filter(user=author, kind="wechat.image_rejected").count() == 1


def test_a_passing_image_stays_visible(author, wechat, django_capture_on_commit_callbacks):
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    params, body = wechat.media_verdict(row.trace_id, "pass", msg_token=MSG_TOKEN)
    Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )
    row.refresh_from_db()
    assert row.status == "pass" and selectors.hidden_media([row.media]) == set()


def test_an_image_not_handed_over_is_sent_by_the_retry_job(
    author, wechat, django_capture_on_commit_callbacks
):
    wechat.fail("wxa/media_check_async", -1)
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    assert row.trace_id == ""
    assert security.image_checks_retry() == 1
    row.refresh_from_db()
    assert row.trace_id


def test_wechat_checks_the_push_url_with_echostr(wechat):
    import hashlib
    import time

    timestamp, nonce = str(int(time.time())), "abc123"
    signature = hashlib.sha1("".join(sorted([MSG_TOKEN, timestamp, nonce])).encode()).hexdigest()
    ok = Client().get(
        "/api/v1/wechat/callback",
        {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": "hello"},
    )
    assert ok.status_code == 200 and ok.content == b"hello"
    bad = Client().get(
        "/api/v1/wechat/callback",
        {"signature": "0" * 40, "timestamp": timestamp, "nonce": nonce, "echostr": "x"},
    )
    assert bad.status_code == 403


def test_the_domain_verification_file_is_served_at_the_root(settings):
    settings.WECHAT_QR_VERIFY_FILE = "a1b2c3d4e5.txt:0123456789abcdef"
    response = Client().get("/a1b2c3d4e5.txt")
    assert response.status_code == 200 and response.content == b"0123456789abcdef"
    assert Client().get("/other.txt").status_code == 404


def test_inbox_shows_the_image_notice(api, author, wechat, django_capture_on_commit_callbacks):
    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    params, body = wechat.media_verdict(row.trace_id, "risky", msg_token=MSG_TOKEN)
    Client().post(
        f"/api/v1/wechat/callback?{urllib.parse.urlencode(params)}", body, content_type="application/json"
    )
    inbox = ApiClient(author).get("/me/notifications").json()["items"]
    assert inbox[0]["kind"] == "wechat.image_rejected"


def test_an_image_from_someone_without_wechat_is_recorded_unchecked_for_staff(
    wechat, django_capture_on_commit_callbacks
):
    name = default_storage.save("rivers/photos/app-user.png", ContentFile(_png()))
    owner = UserFactory()  # signed in through the app: WeChat cannot check for them
    with django_capture_on_commit_callbacks(execute=True):
        row = security.image_check_start(owner=owner, media=name, target=UserFactory(), field="photos")
    assert row is not None and row.status == "unchecked"
    assert wechat.calls("wxa/media_check_async") == []
    assert security.image_checks_retry() == 0
    assert selectors.hidden_media([name]) == set()


def test_staff_see_a_flagged_image_in_the_admin(author, wechat, django_capture_on_commit_callbacks):
    from backend.accounts.models import User

    row, _ = _started(author, wechat, django_capture_on_commit_callbacks)
    admin = User.objects.create_superuser(phone="13900000999")
    client = admin_client_for(admin)
    page = client.get(f"/admin/wechat/contentcheck/{row.pk}/change/").content.decode()
    (src,) = set(re.findall(r'<img src="(/m/[^"]+)"', page))
    image = Client().get(src.replace("&amp;", "&"))
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(b"\x89PNG")
