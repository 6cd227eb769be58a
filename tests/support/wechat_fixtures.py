"""WeChat configured against the local stand-in of its API: the real client code runs against it.

The WeChat tests use these through ``tests/wechat/conftest.py``; a domain's tests of content
security import them (``from tests.support.wechat_fixtures import wechat, wechat_standin``).
"""

from __future__ import annotations

import json
import secrets

import pytest

from backend.wechat import http
from tests.support.wechat_standin import WeChatStandIn

MSG_TOKEN = "linli-callback-token"

# The templates a mini-program's console would hold, and Linli's mapping of notification kinds.
PASS_TEMPLATE = "TPL-pass-issued-0001"
DECISION_TEMPLATE = "TPL-decision-0002"
TEMPLATES = {
    "checkin.pass_issued": {
        "template_id": PASS_TEMPLATE,
        "page": "pages/checkin/pass?id={object_id}",
        "data": {"thing1": "{event}", "time2": "{starts_at}", "thing3": "{body}", "phrase4": "已生成"},
    },
    "filing.approved": {
        "template_id": DECISION_TEMPLATE,
        "page": "{link}",
        "data": {"thing1": "{title}", "phrase2": "已通过", "time3": "{time}"},
        "long_term": True,
    },
}
STANDIN_FIELDS = {
    PASS_TEMPLATE: {"thing1": "thing", "time2": "time", "thing3": "thing", "phrase4": "phrase"},
    DECISION_TEMPLATE: {"thing1": "thing", "phrase2": "phrase", "time3": "time"},
}


@pytest.fixture
def wechat_standin():
    standin = WeChatStandIn().start()
    for template_id, fields in STANDIN_FIELDS.items():
        standin.register_template(template_id, fields, long_term=template_id == DECISION_TEMPLATE)
    yield standin
    standin.stop()
    http.close()


@pytest.fixture
def wechat(settings, wechat_standin):
    """WeChat configured against the stand-in; retries without pauses."""
    settings.WECHAT_APP_ID = wechat_standin.state.appid
    settings.WECHAT_APP_SECRET = wechat_standin.state.secret
    settings.WECHAT_API_BASE = wechat_standin.base_url
    settings.WECHAT_MSG_TOKEN = MSG_TOKEN
    settings.WECHAT_SUBSCRIBE_TEMPLATES = json.dumps(TEMPLATES)
    settings.WECHAT_BUSY_BACKOFF = 0
    http.close()
    return wechat_standin


def sign_in(api, standin, *, phone: str = "13800138000", openid: str | None = None) -> dict:
    """A first sign-in as the mini-program does it: code alone (409), then code + phone code."""
    openid = openid or "o" + secrets.token_hex(14)
    first = api.post("/auth/wechat", {"code": standin.issue_login(openid)})
    assert first.status_code == 409, first.json()
    code = standin.issue_login(openid)
    response = api.post("/auth/wechat", {"code": code, "phone_code": standin.issue_phone_code(phone)})
    assert response.status_code == 200, response.json()
    return response.json()


def wechat_person(api, standin, *, phone: str, openid: str):
    """A person signed in through the mini-program (their WeChat identity bound)."""
    from backend.accounts.models import User

    return User.objects.get(pk=sign_in(api, standin, phone=phone, openid=openid)["user"]["id"])
