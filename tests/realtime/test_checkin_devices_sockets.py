"""Devices, annulments and conflicts over the scanner and dashboard sockets (full ASGI app)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from backend.accounts.models import Role
from backend.checkin import services
from backend.checkin.models import Device
from tests.checkin import factories as f
from tests.helpers import token_for
from tests.realtime.test_checkin_sockets import closed_with, live_path, open_socket, redeem, scan_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_keys():
    from backend.core.keys import keys_invalidate

    keys_invalidate()
    yield
    keys_invalidate()


@database_sync_to_async
def setup_event(passes: int = 1):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    coordinator = f.staff(ev, Role.COORDINATOR)
    north = services.device_register(event=ev, name="1号机", gate="北门", by=scanner)
    south = services.device_register(event=ev, name="2号机", gate="南门", by=scanner)
    made = [f.attendee(ev, f"参加者{i}") for i in range(passes)]
    return {
        "event": ev,
        "scanner": token_for(scanner),
        "coordinator": token_for(coordinator),
        "north": north.pk,
        "south": south.pk,
        "secrets": [p.secret for p in made],
    }


@database_sync_to_async
def revoke(device_id: int) -> None:
    services.device_revoke(device=Device.objects.get(pk=device_id))


def device_path(ev, device_id: int) -> str:
    return f"{scan_path(ev)}?device_id={device_id}"


async def test_device_named_at_connect_puts_its_gate_on_each_scan():
    s = await setup_event()
    ws = await open_socket(device_path(s["event"], s["north"]), s["scanner"])
    first = await redeem(ws, s["secrets"][0])
    assert (first["status"], first["gate"]) == ("ok", "北门")
    other = await redeem(ws, s["secrets"][0], device_id=s["south"])  # named in the frame instead
    assert (other["reason"], other["gate"], other["checked_in_gate"]) == ("already_redeemed", "南门", "北门")
    await ws.disconnect()


async def test_revoking_a_device_closes_its_open_socket_4403():
    s = await setup_event()
    ws = await open_socket(device_path(s["event"], s["north"]), s["scanner"])
    assert (await redeem(ws, s["secrets"][0]))["status"] == "ok"
    await revoke(s["north"])
    assert await asyncio.wait_for(closed_with(ws), timeout=5) == 4403


async def test_a_socket_that_named_the_device_in_a_frame_closes_too():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await redeem(ws, s["secrets"][0], device_id=s["south"])
    await revoke(s["south"])
    assert await closed_with(ws) == 4403


async def test_a_revoked_or_unknown_device_cannot_connect():
    s = await setup_event()
    await revoke(s["north"])
    assert await closed_with(await open_socket(device_path(s["event"], s["north"]), s["scanner"])) == 4403
    assert await closed_with(await open_socket(device_path(s["event"], 987654), s["scanner"])) == 4404


async def test_annul_over_the_socket_reaches_the_dashboards_in_sequence():
    s = await setup_event()
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    assert (await live.receive_json_from(timeout=5))["type"] == "snapshot"
    ws = await open_socket(device_path(s["event"], s["north"]), s["scanner"])
    await redeem(ws, s["secrets"][0], nonce="wrong-pass-1")
    await ws.send_json_to({"type": "annul", "nonce": "wrong-pass-1", "reason": "扫错"})
    answer = await ws.receive_json_from(timeout=5)
    assert (answer["type"], answer["annulled_seq"], answer["inside"]) == ("annulled", 1, 0)
    scan = await live.receive_json_from(timeout=5)
    annulled = await live.receive_json_from(timeout=5)
    assert (scan["type"], scan["seq"], scan["inside"]) == ("checkin", 1, 1)
    assert (annulled["type"], annulled["seq"], annulled["annulled_seq"]) == ("annulled", 2, 1)
    assert (annulled["checked_in"], annulled["inside"], annulled["note"]) == (0, 0, "扫错")
    assert annulled["gate_counts"] == {"gate": "北门", "entries": 0, "exits": 0}
    # Twice: an error frame with its code, and the socket stays open.
    await ws.send_json_to({"type": "annul", "nonce": "wrong-pass-1", "reason": "扫错"})
    again = await ws.receive_json_from(timeout=5)
    assert (again["type"], again["code"], again["nonce"]) == ("error", "already_annulled", "wrong-pass-1")
    assert (await redeem(ws, s["secrets"][0]))["status"] == "ok"
    await ws.disconnect()
    await live.disconnect()


async def test_annul_from_another_device_is_refused_over_the_socket():
    s = await setup_event()
    north = await open_socket(device_path(s["event"], s["north"]), s["scanner"])
    south = await open_socket(device_path(s["event"], s["south"]), s["scanner"])
    await redeem(north, s["secrets"][0], nonce="north-scan-2")
    await south.send_json_to({"type": "annul", "nonce": "north-scan-2", "reason": "x"})
    assert (await south.receive_json_from(timeout=5))["code"] == "annul_not_allowed"
    await south.send_json_to({"type": "annul", "reason": "x"})
    assert (await south.receive_json_from(timeout=5))["code"] == "invalid_message"
    await north.disconnect()
    await south.disconnect()


async def test_a_forced_scan_reaches_the_dashboard_as_a_conflict():
    s = await setup_event()
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    await live.receive_json_from(timeout=5)
    ws = await open_socket(device_path(s["event"], s["north"]), s["scanner"])
    await redeem(ws, s["secrets"][0])
    forced = await redeem(ws, s["secrets"][0], device_id=s["south"], forced=True)
    assert (forced["status"], forced["conflict"]) == ("ok", "already_redeemed")
    got = [await live.receive_json_from(timeout=5) for _ in range(2)]
    assert [m["type"] for m in got] == ["checkin", "conflict"]
    assert (got[1]["conflict"], got[1]["gate"], got[1]["entry_gate"], got[1]["inside"]) == (
        "already_redeemed",
        "南门",
        "北门",
        1,
    )
    await ws.disconnect()
    await live.disconnect()
