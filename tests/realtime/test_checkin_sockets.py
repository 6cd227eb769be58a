"""Scanner and live-dashboard sockets on the full ASGI application (WebsocketCommunicator)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from backend.accounts.models import Role
from backend.asgi import application
from backend.checkin.models import Checkin
from tests.checkin import factories as f
from tests.factories import UserFactory
from tests.helpers import token_for

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
    made = [f.attendee(ev, f"参加者{i}") for i in range(passes)]
    return {
        "event": ev,
        "scanner": token_for(scanner),
        "coordinator": token_for(coordinator),
        "outsider": token_for(UserFactory()),
        "secrets": [p.secret for p in made],
        "passes": made,
    }


async def open_socket(path: str, token: str | None = None, *, subprotocol: bool = False):
    headers, subprotocols = [], None
    if token and subprotocol:
        subprotocols = ["linli.v1", f"bearer.{token}"]
    elif token:
        headers = [(b"authorization", f"Bearer {token}".encode())]
    communicator = WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def closed_with(communicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    # Then the client goes, as a phone does: the consumer ends normally (and stops receiving from
    # the channel layer) instead of being cancelled with the test's event loop.
    await communicator.disconnect(code=message["code"], timeout=5)
    return message["code"]


def scan_path(ev) -> str:
    return f"/ws/v1/events/{ev.pk}/scan"


def live_path(ev, since: int | None = None) -> str:
    return f"/ws/v1/events/{ev.pk}/live" + (f"?since={since}" if since is not None else "")


async def redeem(ws, secret: str, **kwargs):
    msg = f.redeem_msg(secret, **kwargs)
    await ws.send_json_to(msg)
    reply = await ws.receive_json_from(timeout=5)
    assert reply.get("nonce") == msg["nonce"], reply
    return reply


# --- auth --------------------------------------------------------------------------------------------


async def test_scanner_socket_without_token_is_closed_4401():
    s = await setup_event()
    assert await closed_with(await open_socket(scan_path(s["event"]))) == 4401


async def test_scanner_socket_without_role_is_closed_4403():
    s = await setup_event()
    assert await closed_with(await open_socket(scan_path(s["event"]), s["outsider"])) == 4403


async def test_socket_for_unknown_event_is_closed_4403_like_a_forbidden_one():
    s = await setup_event()
    assert await closed_with(await open_socket("/ws/v1/events/987654/scan", s["scanner"])) == 4403


async def test_live_socket_refuses_a_scanner():
    s = await setup_event()
    assert await closed_with(await open_socket(live_path(s["event"]), s["scanner"])) == 4403


# --- scanning ----------------------------------------------------------------------------------------


async def test_scanner_redeems_first_entry_then_already_redeemed():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    first = await redeem(ws, s["secrets"][0])
    assert first["type"] == "result" and first["status"] == "ok" and first["pass"]["name"] == "参**0"
    second = await redeem(ws, s["secrets"][0])
    assert second["status"] == "error" and second["reason"] == "already_redeemed"
    await ws.disconnect()


async def test_same_nonce_over_the_socket_returns_the_first_answer_and_one_row():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"], subprotocol=True)
    first = await redeem(ws, s["secrets"][0], nonce="same-nonce-1")
    again = await redeem(ws, s["secrets"][0], nonce="same-nonce-1")
    assert again["status"] == first["status"] == "ok" and again["seq"] == first["seq"]
    assert await database_sync_to_async(Checkin.objects.filter(event=s["event"]).count)() == 1
    await ws.disconnect()


async def test_redeem_with_bad_fields_gets_an_error_frame_and_the_socket_stays():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await ws.send_json_to({"type": "redeem", "secret": s["secrets"][0], "nonce": "abc", "kind": "entry"})
    reply = await ws.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply["code"] == "invalid_message"
    assert [e["field"] for e in reply["details"]["errors"]] == ["nonce"]
    assert (await redeem(ws, s["secrets"][0]))["status"] == "ok"
    await ws.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text_data": "{not json"}, "invalid_json"),
        ({"text_data": "[1, 2, 3]"}, "invalid_message"),
        ({"text_data": '{"no": "type"}'}, "invalid_message"),
        ({"bytes_data": b"\x00\x01"}, "invalid_message"),
    ],
)
async def test_a_malformed_frame_gets_an_error_frame_and_the_socket_stays(frame, code):
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await ws.send_to(**frame)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert (await redeem(ws, s["secrets"][0]))["status"] == "ok"
    await ws.disconnect()


async def test_error_frames_follow_the_sockets_language():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from(timeout=5))["message"] == "消息不是有效的 JSON。"
    await ws.disconnect()


async def test_repeated_malformed_frames_are_abuse_and_close_with_4400():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    for _ in range(9):
        await ws.send_to(text_data="{not json")
        assert (await ws.receive_json_from(timeout=5))["code"] == "invalid_json"
    await ws.send_json_to({"type": "redeem", "secret": 5})  # a bad redeem counts too: the 10th
    assert await closed_with(ws) == 4400
    fresh = await open_socket(scan_path(s["event"]), s["scanner"])
    assert (await redeem(fresh, s["secrets"][0]))["status"] == "ok"
    await fresh.disconnect()


async def test_an_oversized_frame_closes_with_4413_and_the_server_carries_on():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await ws.send_to(text_data=json.dumps({"type": "redeem", "secret": "A" * 5000, "nonce": "n" * 10}))
    assert await closed_with(ws) == 4413
    fresh = await open_socket(scan_path(s["event"]), s["scanner"])
    assert (await redeem(fresh, s["secrets"][0]))["status"] == "ok"
    await fresh.disconnect()


async def test_unknown_message_type_is_answered_not_closed():
    s = await setup_event()
    ws = await open_socket(scan_path(s["event"]), s["scanner"])
    await ws.send_json_to({"type": "teleport"})
    assert (await ws.receive_json_from(timeout=5))["code"] == "unknown_type"
    await ws.disconnect()


# --- live dashboard ----------------------------------------------------------------------------------


async def test_dashboard_gets_a_snapshot_then_each_scan_in_sequence():
    s = await setup_event(passes=2)
    live = await open_socket(live_path(s["event"]), s["coordinator"], subprotocol=True)
    snapshot = await live.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    assert (snapshot["seq"], snapshot["checked_in"], snapshot["inside"]) == (0, 0, 0)
    assert snapshot["by_list"][0]["checked_in"] == 0 and snapshot["recent"] == []
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    await redeem(scanner, s["secrets"][0])
    await redeem(scanner, "forged")
    await redeem(scanner, s["secrets"][1])
    got = [await live.receive_json_from(timeout=5) for _ in range(3)]
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert [m["status"] for m in got] == ["ok", "error", "ok"]
    assert got[1]["reason"] == "invalid"
    assert (got[2]["checked_in"], got[2]["inside"]) == (2, 2)
    assert got[2]["list_counts"]["checked_in"] == 2
    await scanner.disconnect()
    await live.disconnect()


async def test_dashboard_reconnecting_with_since_gets_exactly_what_it_missed():
    s = await setup_event(passes=3)
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    assert (await live.receive_json_from(timeout=5))["seq"] == 0
    await redeem(scanner, s["secrets"][0])
    assert (await live.receive_json_from(timeout=5))["seq"] == 1
    await live.disconnect()
    for secret in s["secrets"][1:]:
        await redeem(scanner, secret)
    await redeem(scanner, s["secrets"][0], kind="exit")
    again = await open_socket(live_path(s["event"], since=1), s["coordinator"])
    resumed = await again.receive_json_from(timeout=5)
    assert resumed == {"type": "resumed", "since": 1, "count": 3}
    missed = [await again.receive_json_from(timeout=5) for _ in range(3)]
    assert [m["seq"] for m in missed] == [2, 3, 4]
    assert (missed[-1]["checked_in"], missed[-1]["inside"]) == (3, 2)
    # ... and the live feed continues from there without a gap.
    await redeem(scanner, s["secrets"][0])
    assert (await again.receive_json_from(timeout=5))["seq"] == 5
    assert await again.receive_nothing(timeout=0.2)
    await scanner.disconnect()
    await again.disconnect()


async def test_resume_too_old_gets_a_new_snapshot(settings):
    settings.LINLI_CHECKIN_REPLAY_MAX = 2
    s = await setup_event(passes=3)
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    for secret in s["secrets"]:
        await redeem(scanner, secret)
    live = await open_socket(live_path(s["event"], since=0), s["coordinator"])
    snapshot = await live.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 3 and len(snapshot["recent"]) == 3
    # A resume message on an open socket works the same way.
    await live.send_json_to({"type": "resume", "since": 2})
    assert (await live.receive_json_from(timeout=5))["type"] == "resumed"
    assert (await live.receive_json_from(timeout=5))["seq"] == 3
    await scanner.disconnect()
    await live.disconnect()


async def test_dropped_broadcasts_are_filled_from_the_log_so_the_feed_has_no_gap(monkeypatch):
    """A full channel drops messages (channels-redis only logs it): the next message that does
    arrive reveals the gap and the dashboard fills it from the database."""
    from backend.checkin.services import scans

    s = await setup_event(passes=3)
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    assert (await live.receive_json_from(timeout=5))["seq"] == 0
    real = scans._broadcast
    monkeypatch.setattr(scans, "_broadcast", lambda row: None)
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    await redeem(scanner, s["secrets"][0])
    await redeem(scanner, s["secrets"][1])
    assert await live.receive_nothing(timeout=0.2)
    monkeypatch.setattr(scans, "_broadcast", real)
    await redeem(scanner, s["secrets"][2])
    got = [await live.receive_json_from(timeout=5) for _ in range(3)]
    assert [m["seq"] for m in got] == [1, 2, 3]
    # A duplicate or stale broadcast is not passed on.
    layer = get_channel_layer()
    await layer.group_send(f"event.{s['event'].pk}", {"type": "checkin.recorded", "seq": 2, "text": "{}"})
    assert await live.receive_nothing(timeout=0.2)
    await scanner.disconnect()
    await live.disconnect()


async def test_scans_from_two_processes_arriving_out_of_order_reach_dashboards_in_order_without_queries(
    monkeypatch,
):
    """Two server processes publish their scans independently, so seq 2 may arrive before seq 1:
    the event's hub puts them back in order for all its dashboards, no dashboard asks the
    database (before, each dashboard healed the reordering with a query of its own)."""
    from backend.checkin import selectors
    from backend.checkin.services import scans

    s = await setup_event(passes=2)
    boards = [await open_socket(live_path(s["event"]), s["coordinator"]) for _ in range(3)]
    for live in boards:
        assert (await live.receive_json_from(timeout=5))["seq"] == 0
    published: list[dict] = []
    monkeypatch.setattr(scans, "publish_after_commit", lambda group, message: published.append(message))
    replays = []
    real_replay = selectors.checkin_replay
    monkeypatch.setattr(selectors, "checkin_replay", lambda **kw: replays.append(kw) or real_replay(**kw))
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    await redeem(scanner, s["secrets"][0])
    await redeem(scanner, s["secrets"][1])
    layer = get_channel_layer()
    first, second = published
    await layer.group_send(f"event.{s['event'].pk}", second)  # the other process was faster
    await layer.group_send(f"event.{s['event'].pk}", first)
    for live in boards:
        assert [(await live.receive_json_from(timeout=5))["seq"] for _ in range(2)] == [1, 2]
    assert replays == []
    for ws in (scanner, *boards):
        await ws.disconnect()


async def test_a_scan_still_missing_after_the_wait_is_read_once_for_every_dashboard(monkeypatch):
    from backend.checkin import selectors
    from backend.checkin.services import scans

    s = await setup_event(passes=3)
    boards = [await open_socket(live_path(s["event"]), s["coordinator"]) for _ in range(3)]
    for live in boards:
        assert (await live.receive_json_from(timeout=5))["seq"] == 0
    published: list[dict] = []
    monkeypatch.setattr(scans, "publish_after_commit", lambda group, message: published.append(message))
    replays = []
    real_replay = selectors.checkin_replay
    monkeypatch.setattr(selectors, "checkin_replay", lambda **kw: replays.append(kw) or real_replay(**kw))
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    for secret in s["secrets"]:
        await redeem(scanner, secret)
    layer = get_channel_layer()
    await layer.group_send(f"event.{s['event'].pk}", published[0])
    await layer.group_send(f"event.{s['event'].pk}", published[2])  # seq 2 was dropped
    for live in boards:
        assert [(await live.receive_json_from(timeout=5))["seq"] for _ in range(3)] == [1, 2, 3]
    assert len(replays) == 1
    for ws in (scanner, *boards):
        await ws.disconnect()


async def test_dashboard_of_another_event_hears_nothing():
    s, other = await setup_event(), await setup_event()
    live = await open_socket(live_path(other["event"]), other["coordinator"])
    await live.receive_json_from(timeout=5)
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    await redeem(scanner, s["secrets"][0])
    assert await live.receive_nothing(timeout=0.2)
    await scanner.disconnect()
    await live.disconnect()


async def test_late_offline_scan_shows_as_late_on_the_dashboard():
    s = await setup_event()
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    await live.receive_json_from(timeout=5)
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    from django.utils import timezone

    await redeem(scanner, s["secrets"][0], scanned_at=timezone.now() - timedelta(minutes=30))
    message = await live.receive_json_from(timeout=5)
    assert message["late"] is True and message["status"] == "ok"
    await scanner.disconnect()
    await live.disconnect()


async def test_broadcasts_published_together_reach_the_dashboard_in_order(monkeypatch):
    """Scans that queue up while a publish is on its way go out as one ``batch`` message."""
    from backend.checkin.models import Checkin
    from backend.checkin.selectors import checkin_feed_message

    s = await setup_event(passes=3)
    live = await open_socket(live_path(s["event"]), s["coordinator"])
    assert (await live.receive_json_from(timeout=5))["seq"] == 0
    from backend.checkin.services import scans

    real = scans._broadcast
    monkeypatch.setattr(scans, "_broadcast", lambda row: None)
    scanner = await open_socket(scan_path(s["event"]), s["scanner"])
    for secret in s["secrets"]:
        await redeem(scanner, secret)
    monkeypatch.setattr(scans, "_broadcast", real)
    rows = await database_sync_to_async(
        lambda: [checkin_feed_message(r) for r in Checkin.objects.filter(event=s["event"]).order_by("seq")]
    )()
    batch = [[m["seq"], json.dumps(m)] for m in rows]
    await get_channel_layer().group_send(
        f"event.{s['event'].pk}", {"type": "checkin.recorded", "batch": batch}
    )
    got = [await live.receive_json_from(timeout=5) for _ in range(3)]
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert await live.receive_nothing(timeout=0.2)
    await scanner.disconnect()
    await live.disconnect()


def test_redis_layer_pops_for_less_time_than_the_client_waits_for_a_reply():
    """A blocking pop as long as redis-py's read timeout races it and crashes a consumer (1011)."""
    import inspect

    from backend.runtime.channels import tune_channel_layer

    layer = get_channel_layer()
    if not hasattr(layer, "brpop_timeout"):
        pytest.skip("in-memory channel layer")
    from redis.asyncio.connection import AbstractConnection

    default = inspect.signature(AbstractConnection.__init__).parameters["socket_timeout"].default
    tune_channel_layer()
    limit = min(h.get("socket_timeout", default) or float("inf") for h in layer.hosts)
    assert layer.brpop_timeout < limit
