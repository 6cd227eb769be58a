"""The websocket protocol, published: ``/api/v1/asyncapi.json`` (AsyncAPI 3) and the docs page.

Every frame the realtime tests receive is also checked against the document as it is sent
(``tests/support/asyncapi_contract.py``); these tests check the document itself and that check.
"""

from __future__ import annotations

import json
import re

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern

from backend.asgi import application
from realtime.routing import websocket_urlpatterns
from tests.factories import UserFactory
from tests.helpers import ApiClient, token_for
from tests.support import asyncapi_contract as contract


def served() -> dict:
    response = ApiClient().get("/asyncapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def resolve(doc: dict, ref: str) -> dict:
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return resolve(doc, node["$ref"]) if "$ref" in node else node


def refs(node) -> list[str]:
    if isinstance(node, dict):
        return (
            [node["$ref"]]
            if isinstance(node.get("$ref"), str)
            else [r for v in node.values() for r in refs(v)]
        )
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_asyncapi_document_is_served_as_asyncapi_3(db):
    doc = served()
    assert doc["asyncapi"] == "3.0.0"
    assert {"info", "channels", "operations", "components"} <= set(doc)
    # Every reference resolves inside the document.
    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        resolve(doc, ref)


def test_every_websocket_route_has_a_channel(db):
    addresses = {c["address"] for c in served()["channels"].values()}
    routes = {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern))
        for p in websocket_urlpatterns
        if isinstance(p, URLPattern)
    }
    assert routes == addresses


def test_every_channel_lists_its_close_codes_messages_and_operations(db):
    doc = served()
    for name, channel in doc["channels"].items():
        codes = {entry["code"] for entry in channel["x-close-codes"]}
        assert {4401, 4403, 4413} <= codes, name
        assert all(entry["description"] for entry in channel["x-close-codes"])
        actions = {
            op["action"] for op in doc["operations"].values() if op["channel"]["$ref"] == f"#/channels/{name}"
        }
        assert actions == {"send", "receive"}, name
        sent = [
            op
            for op in doc["operations"].values()
            if op["action"] == "send" and op["channel"]["$ref"] == f"#/channels/{name}"
        ]
        assert any(resolve(doc, m["$ref"])["name"] == "error" for m in sent[0]["messages"]), name


def test_a_frame_that_breaks_the_document_is_caught():
    assert contract.check_frame("scanner", json.dumps({"type": "result", "nonce": "x"})) is not None
    assert contract.check_frame("dashboard", json.dumps({"type": "result"})) is not None  # not sent there
    assert contract.check_frame("echo", "not json") is not None
    assert contract.check_close("scanner", 4999) is not None
    good = {"type": "error", "code": "invalid_json", "message": "x", "details": {}}
    assert contract.check_frame("scanner", json.dumps(good)) is None
    assert contract.check_close("dashboard", 4403) is None


@pytest.mark.django_db(transaction=True)
async def test_frames_sent_over_a_real_socket_are_checked():
    from channels.db import database_sync_to_async

    token = await database_sync_to_async(lambda: token_for(UserFactory()))()
    before = contract.CHECKED.get("echo", 0)
    ws = WebsocketCommunicator(
        application, "/ws/v1/echo", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    assert (await ws.connect(timeout=5))[0]
    await ws.send_json_to({"type": "ping", "data": [1]})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    await ws.send_to(text_data="{broken")
    assert (await ws.receive_json_from(timeout=5))["code"] == "invalid_json"
    await ws.disconnect()
    assert contract.CHECKED["echo"] >= before + 2
    assert contract.VIOLATIONS == []


def test_docs_page_links_the_asyncapi_document_and_loads_nothing_from_elsewhere(db):
    from django.contrib.staticfiles import finders

    client = ApiClient()
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/api/v1/asyncapi.json"' in html and "/api/v1/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if "//" in a]
    for asset in (a for a in assets if a.startswith("/static/")):
        assert finders.find(asset.removeprefix("/static/")), asset  # shipped, and collected
    assert '"validatorUrl": null' in html  # Swagger UI sends the document nowhere
    assert "asyncapi.json" in client.get("/openapi.json").json()["info"]["description"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/asyncapi.json"])
def test_docs_are_not_public_when_the_setting_says_so(db, settings, path):
    settings.LINLI_API_DOCS_PUBLIC = False
    response = ApiClient().get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/asyncapi.json"])
def test_docs_are_public_when_the_setting_says_so(db, settings, path):
    settings.LINLI_API_DOCS_PUBLIC = True
    assert ApiClient().get(path).status_code == 200
