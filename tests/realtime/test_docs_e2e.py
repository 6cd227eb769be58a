"""The docs page through a real daphne, as a browser without internet access loads it: the page
and every script and stylesheet it names come from Linli itself."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from bench.harness import Server
from tests.support.own_server import _fresh_cache, _isolated_media  # noqa: F401 (own server)

pytestmark = pytest.mark.server


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_docs_page_and_its_assets_are_served_by_linli():
    with Server.linli(env={"REDIS_URL": "", "DEBUG": ""}) as server:
        status, page = fetch(server.url + "/api/v1/docs")
        assert status == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.decode())
        scripts = [a for a in assets if a.endswith(".js")]
        assert scripts and all(a.startswith("/") and not a.startswith("//") for a in assets)
        sizes = {}
        for asset in assets:
            status, body = fetch(server.url + asset)
            assert status == 200, asset
            sizes[asset] = len(body)
        assert max(sizes[s] for s in scripts) > 500_000  # Swagger UI's bundle itself
        status, body = fetch(server.url + "/api/v1/asyncapi.json")
        assert status == 200 and json.loads(body)["asyncapi"] == "3.0.0"
