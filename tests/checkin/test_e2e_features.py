"""Devices and gates, annulments and forced scans end to end, through a real daphne process
(SQLite file, in-memory layer; seeded by ``bench.checkin.seed``) with the ``websockets`` client
and plain HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from bench.checkin import connect
from tests.checkin.test_e2e_daphne import (
    _fresh_cache,
    _fresh_keys,
    _isolated_media,
    msg,
    recv,
    run,
    server,
    take,
)
from tests.checkin.test_e2e_daphne import close_code as closed
from tests.checkin.test_e2e_daphne import urls as socket_urls

__all__ = ["_fresh_cache", "_fresh_keys", "_isolated_media", "server"]  # the fixtures this module uses

pytestmark = pytest.mark.server


def http(srv, method: str, path: str, token: str, body: Any = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{srv.url}/api/v1/events/{srv.seed['event_id']}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_devices_annul_forced_scans_and_revocation_through_daphne(server):
    scanner, coordinator = server.seed["scanners"][0], server.seed["coordinator"]
    (secret,) = take(server)
    status, north = http(server, "POST", "/devices", scanner, {"name": "1号机", "gate": "北门"})
    assert status == 201, north
    _, south = http(server, "POST", "/devices", scanner, {"name": "2号机", "gate": "南门"})
    scan_url, live_url = socket_urls(server)

    async def scenario():
        live = await connect(live_url, coordinator)
        base = (await recv(live))["seq"]
        ws = await connect(f"{scan_url}?device_id={north['id']}", scanner)
        await ws.send(msg(secret, "e2e-dev-entry1"))
        first = await recv(ws)
        await ws.send(json.dumps({"type": "annul", "nonce": "e2e-dev-entry1", "reason": "扫错"}))
        annulled = await recv(ws)
        await ws.send(msg(secret, "e2e-dev-entry2"))
        again = await recv(ws)
        forced_item = {**json.loads(msg(secret, "e2e-forced-01")), "forced": True}
        upload = http(
            server, "POST", "/checkins", scanner, {"device_id": south["id"], "items": [forced_item]}
        )
        feed = [await recv(live) for _ in range(4)]
        revoked_at = time.monotonic()
        revoke = http(server, "POST", f"/devices/{north['id']}/revoke", coordinator, {"reason": "丢失"})
        code = await closed(ws)
        took = time.monotonic() - revoked_at
        await live.close()
        return base, first, annulled, again, upload, feed, revoke, code, took

    base, first, annulled, again, upload, feed, revoke, code, took = run(scenario())
    assert (first["status"], first["gate"]) == ("ok", "北门")
    assert (annulled["type"], annulled["annulled_seq"]) == ("annulled", first["seq"])
    assert again["status"] == "ok"
    status, body = upload
    (result,) = body["results"]
    assert status == 200 and (result["status"], result["conflict"], result["checked_in_gate"]) == (
        "ok",
        "already_redeemed",
        "北门",
    )
    assert [m["seq"] for m in feed] == [base + 1, base + 2, base + 3, base + 4]
    assert [m["type"] for m in feed] == ["checkin", "annulled", "checkin", "conflict"]
    assert revoke[0] == 200 and code == 4403 and took < 5

    item = json.loads(msg(take(server)[0], "e2e-revoked-1"))
    status, body = http(server, "POST", "/checkins", scanner, {"device_id": north["id"], "items": [item]})
    assert (status, body["code"]) == (403, "device_revoked")
    _, conflicts = http(server, "GET", "/conflicts", coordinator)
    assert [c["conflict"] for c in conflicts["items"]] == ["already_redeemed"]
    _, stats = http(server, "GET", "/stats", coordinator)
    assert stats["by_gate"] == [
        {"gate": "北门", "entries": 1, "exits": 0},
        {"gate": "南门", "entries": 1, "exits": 0},
    ]
