"""The mini-program's life through a real daphne, with the local stand-in of WeChat's API as WeChat.

One daphne process (``bench.harness.Server``) on a fresh SQLite database with the demo data, its
``WECHAT_*`` settings pointing at a stand-in that runs in this process on a loopback port. The
stand-in checks what reaches it as WeChat does and plays WeChat's part: it downloads the image it
is asked to check from Linli's signed URL and pushes its verdict to Linli's message-push URL.

Steps: first sign-in (409 without a phone, then code + phone code, tokens), second sign-in by the
code alone, consent reported, a real cause (a coordinator adds a pass for the person) reaching
them as one subscription message that uses one credit, a risky text refused through a real
endpoint, a photo uploaded and checked, WeChat's signed "risky" verdict, the photo hidden
afterwards (from the uploader, not from the division's handler).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from PIL import Image

from bench.harness import Server, free_port
from tests.support.wechat_fixtures import MSG_TOKEN, PASS_TEMPLATE, STANDIN_FIELDS, TEMPLATES
from tests.support.wechat_standin import WeChatStandIn

pytestmark = pytest.mark.server

OPENID = "oE2EDaphne0000000000000000001"
PHONE = "13600136066"
COORDINATOR = "13800000003"  # demo accounts (manage.py seed_demo), dev sign-in
HANDLER = "13800000001"


@pytest.fixture(scope="module")
def standin():
    standin = WeChatStandIn().start()
    for template_id, fields in STANDIN_FIELDS.items():
        standin.register_template(template_id, fields, long_term=template_id != PASS_TEMPLATE)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def server(standin, tmp_path_factory):
    port = free_port()
    env = {
        "REDIS_URL": "",
        "NO_GCE_CHECK": "true",
        "LINLI_TASKS": "immediate",  # deliveries run when the causing request commits
        "LINLI_QUIET_HOURS": "00:00,00:00",  # delivered now, whatever the hour in Shanghai
        "LINLI_SIGNIN_RATE": "1000/m",
        "LINLI_MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        # Signed URLs must lead WeChat (the stand-in) back to this server.
        "LINLI_PUBLIC_HOST": f"127.0.0.1:{port}",
        "LINLI_PUBLIC_SCHEME": "http",
        "WECHAT_APP_ID": standin.state.appid,
        "WECHAT_APP_SECRET": standin.state.secret,
        "WECHAT_API_BASE": standin.base_url,
        "WECHAT_MSG_TOKEN": MSG_TOKEN,
        "WECHAT_SUBSCRIBE_TEMPLATES": json.dumps(TEMPLATES),
        "LINLI_REDIS_PREFIX": f"linli-wechat-e2e-{os.getpid()}",
    }
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        [sys.executable, "manage.py", "seed_demo"],
    ]
    with Server.linli(env=env, prepare=prepare, port=port) as srv:
        yield srv


def call(
    server: Server, method: str, path: str, body: Any = None, *, token: str = "", photo: bytes = b""
) -> tuple[int, Any]:
    """One request to the API: ``(status, JSON body)``; ``photo`` sends a multipart upload."""
    headers = {"Accept-Language": "en"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if photo:
        boundary = secrets.token_hex(12)
        data = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n".encode()
            + photo
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{server.url}/api/v1{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def dev_token(server: Server, phone: str) -> str:
    status, body = call(server, "POST", "/auth/dev-login", {"phone": phone})
    assert status == 200, body
    return body["access_token"]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (40, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_mini_program_user_end_to_end(server, standin):
    # First sign-in: the code alone is not enough, the phone joins the account.
    status, body = call(server, "POST", "/auth/wechat", {"code": standin.issue_login(OPENID)})
    assert status == 409 and body["code"] == "wechat_phone_required", body
    status, first = call(
        server,
        "POST",
        "/auth/wechat",
        {"code": standin.issue_login(OPENID), "phone_code": standin.issue_phone_code(PHONE)},
    )
    assert status == 200 and first["access_token"], first
    assert len(standin.calls("wxa/business/getuserphonenumber")) == 1

    # Second sign-in: the code alone, no phone asked for (WeChat charges per number).
    status, second = call(server, "POST", "/auth/wechat", {"code": standin.issue_login(OPENID)})
    assert status == 200 and second["user"]["id"] == first["user"]["id"], second
    assert len(standin.calls("wxa/business/getuserphonenumber")) == 1
    token = second["access_token"]

    # Consent: the user accepted the pass template once in wx.requestSubscribeMessage.
    standin.user_accepts(OPENID, PASS_TEMPLATE)
    status, body = call(
        server, "POST", "/me/wechat/subscriptions", {"results": {PASS_TEMPLATE: "accept"}}, token=token
    )
    assert status == 200, body
    credits = {
        i["template_id"]: i["credits"]
        for i in call(server, "GET", "/me/wechat/subscriptions", token=token)[1]["items"]
    }
    assert credits[PASS_TEMPLATE] == 1

    # A real cause: the demo coordinator adds a pass for this person to the demo event.
    coordinator = dev_token(server, COORDINATOR)
    status, events = call(server, "GET", "/events", token=coordinator)
    assert status == 200 and events["items"], events
    event_id = events["items"][0]["id"]
    status, added = call(
        server,
        "POST",
        f"/events/{event_id}/passes",
        {"holder_name": "微信用户", "holder_phone": PHONE},
        token=coordinator,
    )
    assert status == 201, added
    assert until(lambda: len(standin.state.sent) >= 1)
    time.sleep(0.5)  # a second message would have arrived by now
    (sent,) = standin.state.sent
    assert sent.openid == OPENID and sent.template_id == PASS_TEMPLATE
    assert sent.data["thing1"] == events["items"][0]["title"][:20]
    assert standin.consent_left(OPENID, PASS_TEMPLATE) == 0
    credits = {
        i["template_id"]: i["credits"]
        for i in call(server, "GET", "/me/wechat/subscriptions", token=token)[1]["items"]
    }
    assert credits[PASS_TEMPLATE] == 0
    inbox = call(server, "GET", "/me/notifications", token=token)[1]["items"]
    assert [n["kind"] for n in inbox].count("checkin.pass_issued") == 1
    (mine,) = call(server, "GET", "/me/passes", token=token)[1]
    with urllib.request.urlopen(mine["qr_signed_url"], timeout=10) as qr:  # no Authorization header
        assert qr.status == 200 and qr.headers["Content-Type"] == "image/png"

    # A refused text, through a real endpoint.
    status, rivers = call(server, "GET", "/rivers")
    river = next(r for r in rivers["items"] if "演示" in r["name"])
    status, detail = call(server, "GET", f"/rivers/{river['id']}")
    segment_id = detail["segments"][0]["id"]
    report = {"type": "garbage_dumping", "lat": 22.6336, "lon": 114.0309, "segment_id": segment_id}
    status, refused = call(
        server, "POST", "/river-issues", {**report, "description": "河边有违禁物品"}, token=token
    )
    assert status == 422 and refused["code"] == "content_rejected", refused
    assert refused["details"]["field"] == "description" and "not allowed" in refused["message"]

    # A photo: stored, handed to WeChat as a signed URL WeChat downloads from this server.
    status, issue = call(
        server, "POST", "/river-issues", {**report, "description": "河岸边有建筑垃圾。"}, token=token
    )
    assert status == 201, issue
    status, photo = call(server, "POST", f"/river-issues/{issue['id']}/photos", token=token, photo=jpeg())
    assert status == 201 and photo["hidden"] is False, photo
    assert until(lambda: len(standin.state.media_checks) == 1)
    (trace_id,) = standin.state.media_checks
    check = standin.state.media_checks[trace_id]
    assert check.openid == OPENID and check.media_url.startswith(server.url + "/m/")
    status, content_type, image = standin.fetch_media(trace_id)
    assert status == 200 and content_type == "image/jpeg" and image.startswith(b"\xff\xd8")

    # WeChat's verdict arrives signed; a forged one is refused.
    with pytest.raises(urllib.error.HTTPError) as forged:
        standin.push_media_verdict(
            trace_id, "risky", callback_url=f"{server.url}/api/v1/wechat/callback", msg_token="not-the-token"
        )
    assert forged.value.code == 403
    assert len(call(server, "GET", f"/river-issues/{issue['id']}", token=token)[1]["photos"]) == 1
    assert (
        standin.push_media_verdict(
            trace_id, "risky", callback_url=f"{server.url}/api/v1/wechat/callback", msg_token=MSG_TOKEN
        )
        == 200
    )

    # Hidden afterwards: the uploader sees no photo (and was told), the division's handler sees it flagged.
    assert call(server, "GET", f"/river-issues/{issue['id']}", token=token)[1]["photos"] == []
    inbox = call(server, "GET", "/me/notifications", token=token)[1]["items"]
    assert "wechat.image_rejected" in [n["kind"] for n in inbox]
    handler = dev_token(server, HANDLER)
    photos = call(server, "GET", f"/river-issues/{issue['id']}", token=handler)[1]["photos"]
    assert [(p["id"], p["hidden"]) for p in photos] == [(photo["id"], True)]
