"""The live feed's hub compares its position with the database's and replays a real gap once for
all its dashboards; scans merely in flight are waited for, not read again."""

from __future__ import annotations

import asyncio
import json

import pytest

from realtime import checkin as live

# database_sync_to_async tidies the thread's connections around each call.
pytestmark = pytest.mark.django_db


class Board:
    """A dashboard as the hub sees it: next in line for every seq after ``last_seq``."""

    def __init__(self, last_seq: int) -> None:
        self.last_seq = last_seq
        self.frames: list[int] = []
        self.heard: list[int] = []

    def takes_next(self, seq: int) -> bool:
        if seq != self.last_seq + 1:
            return False
        self.last_seq = seq
        return True

    async def checkin_recorded(self, item: dict) -> None:
        pass  # old news for a board in line

    def heard_of(self, seq: int) -> None:
        self.heard.append(seq)

    async def base_send(self, message: dict) -> None:
        self.frames.append(json.loads(message["text"])["seq"])


@pytest.fixture
def database(monkeypatch):
    """The feed in the database: its last seq and what a replay returns, with the calls counted."""
    state = {"last": 0, "replays": []}

    def event_last_seq(*, event_id: int) -> int:
        return state["last"]

    def checkin_replay(*, event_id: int, after: int, upto: int | None = None) -> list[dict]:
        state["replays"].append((after, upto))
        return [{"type": "checkin", "seq": seq} for seq in range(after + 1, upto + 1)]

    monkeypatch.setattr(live.selectors, "event_last_seq", event_last_seq)
    monkeypatch.setattr(live.selectors, "checkin_replay", checkin_replay)
    monkeypatch.setattr(live._Hub, "REORDER_WAIT", 0.05)
    return state


def _hub(boards: list[Board], last: int) -> live._Hub:
    hub = live._Hub(event_id=1)
    hub.members.update(boards)
    hub.last = last
    return hub


def _item(seq: int) -> dict:
    return {"seq": seq, "text": json.dumps({"type": "checkin", "seq": seq})}


def test_scans_in_flight_arrive_during_the_wait_and_nothing_is_read(database):
    boards = [Board(10) for _ in range(50)]
    hub = _hub(boards, last=10)
    database["last"] = 12  # committed, still on their way through the channel layer

    async def scenario():
        resync = asyncio.create_task(hub._resync())
        await asyncio.sleep(0.01)
        await hub._deliver(
            {"type": "checkin.recorded", "batch": [[11, _item(11)["text"]], [12, _item(12)["text"]]]}
        )
        await resync

    asyncio.run(scenario())
    assert database["replays"] == []
    assert all(board.frames == [11, 12] and board.heard == [] for board in boards)


def test_a_real_gap_is_read_once_for_every_dashboard(database):
    boards = [Board(10) for _ in range(50)]
    hub = _hub(boards, last=10)
    database["last"] = 13  # lost on the way (a channel layer flushed)
    asyncio.run(hub._resync())
    assert database["replays"] == [(10, 13)]
    assert all(board.frames == [11, 12, 13] and board.heard == [] for board in boards)
    assert hub.last == 13


def test_a_hub_level_with_the_database_does_nothing(database):
    boards = [Board(10)]
    hub = _hub(boards, last=10)
    database["last"] = 10
    asyncio.run(hub._resync())
    assert database["replays"] == [] and boards[0].frames == [] and boards[0].heard == []
