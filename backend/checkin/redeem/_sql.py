"""What the readers and both writers of a scan share: the tables quoted for a connection, the
check-in row's columns and parameters, and datetimes read raw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from backend.checkin.models import Checkin, CheckinList, Event, EventSequence, Pass, Presence

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
            columns=", ".join(q(c) for c in CHECKIN_COLUMNS),
        )


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
    ]


def counts_of(seq_row: Any, list_id: int | None, list_row: Any) -> dict[str, Any]:
    """The counts stored with the row: the event's, and its list's when it has one."""
    counts: dict[str, Any] = {"checked_in": seq_row[0], "inside": seq_row[1]}
    if list_id is not None:
        counts["list"] = {"id": list_id, "checked_in": list_row[0], "inside": list_row[1]}
    return counts


def aware(value: Any) -> datetime | None:
    """A datetime read raw: SQLite gives naive UTC (the ORM would convert it), PostgreSQL aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value
