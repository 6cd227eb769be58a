"""The offline bundle through a real daphne process: the full bundle streamed (plain and gzip),
then a delta after changes made by another process. Seeded by ``bench.offline_bundle.seed``."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import sys
from urllib.parse import quote

import pytest

from bench.harness import Server, django_command
from bench.offline_bundle import CHANGE_FILE, SEED_FILE
from tests.support.own_server import _fresh_cache, _fresh_keys, _isolated_media  # noqa: F401 (own server)

pytestmark = pytest.mark.server

MIGRATE = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]


def get(server: Server, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_bundle_streams_through_daphne_and_the_delta_follows_changes():
    env = {"REDIS_URL": "", "LINLI_REDIS_PREFIX": f"linli-e2e-bundle-{os.getpid()}"}
    seed = django_command(
        "bench.offline_bundle", f"seed(passes=120, out=os.path.join(os.environ['BENCH_TMP'], {SEED_FILE!r}))"
    )
    with Server.linli(env=env, prepare=[MIGRATE, seed]) as server:
        data = json.loads((server.tmp / SEED_FILE).read_text())
        headers = {"Authorization": f"Bearer {data['token']}"}
        path = f"/api/v1/events/{data['event']}/offline-bundle"
        status, plain_headers, plain = get(server, path, headers)
        assert status == 200 and "content-length" not in plain_headers  # streamed, chunked
        assert plain_headers.get("transfer-encoding") == "chunked"
        status, zipped_headers, zipped = get(server, path, {**headers, "Accept-Encoding": "gzip"})
        assert status == 200 and zipped_headers["content-encoding"] == "gzip"
        bundle = json.loads(plain)
        assert json.loads(gzip.decompress(zipped))["passes"] == bundle["passes"]
        assert len(bundle["passes"]) == 120 and bundle["full"] is True
        server.run_django(  # raises with the step's stderr when it fails
            "bench.offline_bundle",
            f"change(event_id={data['event']}, count=9, out=os.path.join(os.environ['BENCH_TMP'], {CHANGE_FILE!r}))",
            timeout=120,
        )
        status, _, body = get(server, f"{path}?since={quote(bundle['cursor'])}", headers)
        delta = json.loads(body)
        assert status == 200 and delta["full"] is False
        assert len(delta["passes"]) == 6 and len(delta["revoked"]) == 3  # 3 added + 3 blocked; 3 voided
        status, _, body = get(server, f"{path}?since=nonsense", headers)
        assert status == 422 and json.loads(body)["code"] == "invalid_cursor"
