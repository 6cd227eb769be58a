"""What the readers and both writers of a scan share: the tables quoted for a connection, what a
writer is given and gives back, the check-in row's columns and parameters, datetimes read raw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from django.utils import timezone

from backend.checkin.models import (
    Checkin,
    CheckinList,
    Device,
    Event,
    EventSequence,
    GateCount,
    Pass,
    Presence,
)
from backend.checkin.redeem.decide import Deltas, StayChange

S = TypeVar("S")


def per_vendor(build: Callable[[Any], S]) -> Callable[[Any], S]:
    """``build(connection)`` once per database vendor (table names are quoted per vendor): a
    module's statements are composed on its first scan, then looked up."""
    built: dict[str, S] = {}

    def statements(connection: Any) -> S:
        found = built.get(connection.vendor)
        if found is None:
            found = built[connection.vendor] = build(connection)
        return found

    return statements


# Columns of the check-in row, in the order ``checkin_params`` gives them (``seq`` second).
CHECKIN_COLUMNS = (
    "event_id",
    "seq",
    "pass_id",
    "list_id",
    "kind",
    "status",
    "reason",
    "scanned_at",
    "received_at",
    "late",
    "nonce",
    "device",
    "source",
    "scanner_id",
    "entry_at",
    "device_ref_id",
    "gate",
    "entry_gate",
    "forced",
    "conflict",
    "note",
    "counts",
)


@dataclass(frozen=True)
class Tables:
    """The quoted table names of one database vendor."""

    passes: str
    event: str
    lists: str
    list_shifts: str
    seq: str
    checkins: str
    presence: str
    devices: str
    gates: str
    columns: str  # the check-in row's columns, quoted, comma-separated

    @classmethod
    def of(cls, connection: Any) -> Tables:
        q = connection.ops.quote_name
        return cls(
            passes=q(Pass._meta.db_table),
            event=q(Event._meta.db_table),
            lists=q(CheckinList._meta.db_table),
            list_shifts=q(CheckinList.shifts.through._meta.db_table),
            seq=q(EventSequence._meta.db_table),
            checkins=q(Checkin._meta.db_table),
            presence=q(Presence._meta.db_table),
            devices=q(Device._meta.db_table),
            gates=q(GateCount._meta.db_table),
            columns=", ".join(q(c) for c in CHECKIN_COLUMNS),
        )


@dataclass(frozen=True)
class ScanWrite:
    """What a writer records for one scan: the check-in row (without ``seq`` and ``counts``, which
    the writer takes from the counters it updates) and what the decision changes."""

    values: dict[str, Any]
    deltas: Deltas
    stay: StayChange | None  # None: presence and pass stay as they are
    pass_id: int | None
    presence_id: int | None  # the pass's presence on the row's list, if it has one
    gate_id: int | None = None  # the gate's counts row, for a scan from a registered device
    gate_entries: int = 0  # what the scan adds to them
    gate_exits: int = 0

    @property
    def counts_gate(self) -> bool:
        return self.gate_id is not None and bool(self.gate_entries or self.gate_exits)

    @property
    def event_id(self) -> int:
        return self.values["event_id"]

    @property
    def list_id(self) -> int | None:
        return self.values["list_id"]


class Written(NamedTuple):
    row_id: int
    seq: int
    counts: dict[str, Any]  # the event's and the list's counts right after this scan


def checkin_params(values: dict[str, Any], adapt: Any) -> list[Any]:
    """The check-in row's parameters in ``CHECKIN_COLUMNS`` order, without ``seq`` and ``counts``."""
    return [
        values["event_id"],
        values["pass_obj_id"],
        values["list_id"],
        str(values["kind"]),
        str(values["status"]),
        str(values["reason"]),
        adapt(values["scanned_at"]),
        adapt(values["received_at"]),
        values["late"],
        values["nonce"],
        values["device"],
        str(values["source"]),
        values["scanner_id"],
        adapt(values["entry_at"]),
        values["device_ref_id"],
        values["gate"],
        values["entry_gate"],
        values["forced"],
        str(values["conflict"]),
        "",
    ]


def counts_of(
    seq_row: Any, list_id: int | None, list_row: Any, gate_row: Any = None, scan: ScanWrite | None = None
) -> dict[str, Any]:
    """The counts stored with the row: the event's, its list's when it has one, and its gate's
    when the scan moved someone through a registered device's gate."""
    counts: dict[str, Any] = {"checked_in": seq_row[0], "inside": seq_row[1]}
    if list_id is not None:
        counts["list"] = {"id": list_id, "checked_in": list_row[0], "inside": list_row[1]}
    if gate_row is not None and scan is not None:
        counts["gate"] = {"gate": scan.values["gate"], "entries": gate_row[0], "exits": gate_row[1]}
    return counts


def aware(value: Any) -> datetime | None:
    """A datetime read raw: SQLite gives naive UTC (the ORM would convert it), PostgreSQL aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value
