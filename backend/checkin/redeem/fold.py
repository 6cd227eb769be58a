"""A pass's state recomputed from the scans that still count. Pure: no queries.

Scans are never changed or deleted; an annulment is a new row. After one, the pass's presence on
each list, its first entry, its current stay and its ended stays (a volunteer's service records)
are what its admitted, not annulled entries and exits say, folded in ``seq`` order with the same
rules the redeem applies when it admits a scan (``decide._entry`` / ``decide._exit``): an entry
puts the pass inside its list (a new stay when it was inside nowhere), an exit of a pass inside
its list takes it out (the stay ends when it is inside nowhere), an exit of a pass that is not
inside changes nothing. The difference between two folds is what the counters must change by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from backend.checkin.models import Kind


@dataclass(frozen=True)
class Effective:
    """An admitted entry or exit that is not annulled."""

    id: int
    seq: int
    list_id: int
    kind: str  # Kind.ENTRY | Kind.EXIT
    at: datetime  # when it counts: the scanner's time, never later than its arrival


@dataclass
class ListFold:
    inside: bool = False
    entries: int = 0
    last_entry_id: int | None = None
    last_exit_at: datetime | None = None


@dataclass(frozen=True)
class Stay:
    """From the entry that made the pass inside somewhere to the exit that left it inside nowhere."""

    seq: int  # the seq of the entry that began it (the service record's reference)
    start: datetime
    end: datetime


@dataclass
class PassFold:
    first_entry_at: datetime | None = None
    inside_lists: int = 0
    inside_since: datetime | None = None
    stay_seq: int | None = None
    lists: dict[int, ListFold] = field(default_factory=dict)
    stays: list[Stay] = field(default_factory=list)  # ended stays, in order

    @property
    def checked_in(self) -> bool:
        return self.first_entry_at is not None

    @property
    def inside(self) -> bool:
        return self.inside_lists > 0

    def on(self, list_id: int) -> ListFold:
        return self.lists.get(list_id) or ListFold()


def fold(rows: Iterable[Effective]) -> PassFold:
    state = PassFold()
    for row in sorted(rows, key=lambda r: r.seq):
        lst = state.lists.setdefault(row.list_id, ListFold())
        if row.kind == Kind.ENTRY:
            _enter(state, lst, row)
        elif lst.inside:
            _leave(state, lst, row)
    return state


def _enter(state: PassFold, lst: ListFold, row: Effective) -> None:
    if not lst.inside:
        if state.inside_lists == 0:
            state.inside_since, state.stay_seq = row.at, row.seq
        state.inside_lists += 1
    lst.inside = True
    lst.entries += 1
    lst.last_entry_id = row.id
    state.first_entry_at = state.first_entry_at or row.at


def _leave(state: PassFold, lst: ListFold, row: Effective) -> None:
    lst.inside = False
    lst.last_exit_at = row.at
    state.inside_lists -= 1
    if state.inside_lists == 0:
        if state.inside_since is not None and state.stay_seq is not None:
            state.stays.append(Stay(seq=state.stay_seq, start=state.inside_since, end=row.at))
        state.inside_since, state.stay_seq = None, None
