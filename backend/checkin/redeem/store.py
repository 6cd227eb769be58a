"""Reading and recording one scan, in SQL: the storing side of ``decide``.

The redeem runs on every scan, so its statements are written once, in SQL, and executed raw:
the ORM spends several times longer compiling a query than SQLite or PostgreSQL spend answering
it. One statement locks the pass (and reads the event's window and whether the nonce is known),
one reads the lists with the pass's eligibility and presence on each; then one writer per
database records the scan (``store_sqlite``: a statement each; ``store_postgres``: one statement).
Lists are read on every scan rather than cached, so a rule changed anywhere (admin, shell,
another process) applies to the next scan.

Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.checkin.errors import DeviceRevoked, UnknownDevice
from backend.checkin.models import Checkin, Event, Kind, Pass, RevokedSecret
from backend.checkin.redeem import store_postgres, store_sqlite
from backend.checkin.redeem._sql import ScanWrite, Tables, aware, per_vendor
from backend.checkin.redeem.decide import Decision, ListState, PassState, Window
from backend.checkin.redeem.messages import Redeem

_PASS_FIELDS = (
    "id",
    "event_id",
    "kind",
    "status",
    "holder_name",
    "signup_id",
    "shift_id",
    "blocked",
    "first_entry_at",
    "inside_lists",
    "inside_since",
    "stay_seq",
)


@dataclass(frozen=True)
class _Statements:
    lock_pass: str
    lists: str
    device: str


@per_vendor
def _sql(connection: Any) -> _Statements:
    t = Tables.of(connection)
    q = connection.ops.quote_name
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    pass_columns = ", ".join(f"p.{q(name)}" for name in _PASS_FIELDS)
    return _Statements(
        # Locking the pass serialises scans of one pass (two scanners admit it once); on SQLite
        # the transaction's write lock (BEGIN IMMEDIATE) already serialises every writer.
        lock_pass=(
            f"SELECT {pass_columns}, e.checkin_opens_at, e.checkin_closes_at, "
            f"(SELECT c.id FROM {t.checkins} c WHERE c.event_id = p.event_id AND c.nonce = %s) "
            f"FROM {t.passes} p INNER JOIN {t.event} e ON e.id = p.event_id "
            f"WHERE p.event_id = %s AND p.token_id = %s{lock}"
        ),
        # Run after the lock, so a concurrent scan of the same pass is seen once it committed.
        lists=(
            "SELECT l.id, l.include_volunteers, l.include_attendees, l.allow_multiple_entries, "
            "l.allow_entry_after_exit, "
            f"EXISTS(SELECT 1 FROM {t.list_shifts} s WHERE s.checkinlist_id = l.id), "
            f"EXISTS(SELECT 1 FROM {t.list_shifts} s WHERE s.checkinlist_id = l.id AND s.shift_id = %s), "
            "pr.id, pr.inside, pr.entries, le.scanned_at, le.gate "
            f"FROM {t.lists} l LEFT JOIN {t.presence} pr ON pr.list_id = l.id AND pr.pass_id = %s "
            f"LEFT JOIN {t.checkins} le ON le.id = pr.last_entry_id "
            "WHERE l.event_id = %s ORDER BY l.id"
        ),
        device=(
            f"SELECT d.id, d.gate, d.revoked_at, g.id FROM {t.devices} d "
            f"LEFT JOIN {t.gates} g ON g.event_id = d.event_id AND g.gate = d.gate "
            "WHERE d.id = %s AND d.event_id = %s"
        ),
    )


@dataclass(frozen=True)
class ScanDevice:
    """The registered device a scan comes from: its gate and that gate's counts row."""

    id: int
    gate: str
    gate_id: int | None


def scan_device(cursor: Any, *, event_id: int, device_id: int | None) -> ScanDevice | None:
    """The event's device ``device_id`` (None for none); ``UnknownDevice`` when the event has no
    such device, ``DeviceRevoked`` when it was revoked: its scans are refused."""
    if device_id is None:
        return None
    cursor.execute(_sql(cursor.db).device, [device_id, event_id])
    found = cursor.fetchone()
    if found is None:
        raise UnknownDevice(device_id=device_id)
    if found[2] is not None:
        raise DeviceRevoked(device_id=device_id)
    return ScanDevice(id=found[0], gate=found[1], gate_id=found[3])


# --- reading --------------------------------------------------------------------------------------


@dataclass
class Loaded:
    """What the decision needs, or the row an earlier scan with the same nonce left (``replay``)."""

    replay: Checkin | None = None
    pass_obj: Pass | None = None  # the pass the secret names (locked), for the row and the answer
    holder: PassState | None = None
    window: Window | None = None
    lists: list[ListState] = field(default_factory=list)


@dataclass(frozen=True)
class _Locked:
    pass_obj: Pass
    window: Window
    nonce_known: bool


def scan_load(cursor: Any, *, event_id: int, token_hex: str | None, nonce: str) -> Loaded:
    """Lock the pass a genuine secret names and read the event's window and lists; a nonce seen
    before answers with its row instead. ``token_hex`` is None for a secret that is not genuine."""
    locked = _lock_pass(cursor, event_id=event_id, token_hex=token_hex, nonce=nonce)
    if locked is None or locked.nonce_known:
        replay = checkin_by_nonce(event_id=event_id, nonce=nonce)
        if replay is not None:
            # With the pass this secret names, so the caller tells a repeat from a reuse.
            named = (
                locked.pass_obj
                if locked is not None
                else _revoked_pass(event_id=event_id, token_hex=token_hex)
            )
            return Loaded(replay=replay, pass_obj=named)
    pass_obj: Pass | None
    holder: PassState | None
    window: Window | None
    if locked is not None:
        pass_obj, holder, window = locked.pass_obj, _state(locked.pass_obj), locked.window
    else:
        # Not a pass of this event by its current secret: perhaps an old secret of one.
        pass_obj = _revoked_pass(event_id=event_id, token_hex=token_hex)
        holder = None if pass_obj is None else _state(pass_obj, secret_revoked=True)
        window = None
    lists = _read_lists(cursor, event_id=event_id, pass_obj=pass_obj)
    return Loaded(pass_obj=pass_obj, holder=holder, window=window, lists=lists)


def checkin_by_nonce(*, event_id: int, nonce: str) -> Checkin | None:
    return Checkin.objects.select_related("pass_obj").filter(event_id=event_id, nonce=nonce).first()


def pass_id_named(*, event_id: int, token_hex: str | None) -> int | None:
    """The pass a secret names on this event (by its current secret or a revoked one), or None."""
    if token_hex is None:
        return None
    found = Pass.objects.filter(event_id=event_id, token_id=token_hex).values_list("pk", flat=True).first()
    if found is not None:
        return found
    revoked = _revoked_pass(event_id=event_id, token_hex=token_hex)
    return None if revoked is None else revoked.pk


def _lock_pass(cursor: Any, *, event_id: int, token_hex: str | None, nonce: str) -> _Locked | None:
    if token_hex is None:
        return None
    cursor.execute(_sql(cursor.db).lock_pass, [nonce, event_id, token_hex])
    found = cursor.fetchone()
    if found is None:
        return None
    values = list(found[: len(_PASS_FIELDS)])
    for name in ("first_entry_at", "inside_since"):
        index = _PASS_FIELDS.index(name)
        values[index] = aware(values[index])
    values[_PASS_FIELDS.index("blocked")] = bool(values[_PASS_FIELDS.index("blocked")])
    pass_obj = Pass.from_db(cursor.db.alias, _PASS_FIELDS, values)
    window = Window(opens=aware(found[-3]), closes=aware(found[-2]))  # type: ignore[arg-type]
    return _Locked(pass_obj=pass_obj, window=window, nonce_known=found[-1] is not None)


def _revoked_pass(*, event_id: int, token_hex: str | None) -> Pass | None:
    if token_hex is None:
        return None
    revoked = (
        RevokedSecret.objects.select_related("pass_obj").filter(event_id=event_id, token_id=token_hex).first()
    )
    return None if revoked is None else revoked.pass_obj


def _state(pass_obj: Pass, *, secret_revoked: bool = False) -> PassState:
    return PassState(
        kind=pass_obj.kind,
        shift_id=pass_obj.shift_id,
        void=pass_obj.status == Pass.Status.VOID,
        blocked=pass_obj.blocked,
        first_entry_at=pass_obj.first_entry_at,
        inside_lists=pass_obj.inside_lists,
        inside_since=pass_obj.inside_since,
        stay_seq=pass_obj.stay_seq,
        secret_revoked=secret_revoked,
    )


def _read_lists(cursor: Any, *, event_id: int, pass_obj: Pass | None) -> list[ListState]:
    cursor.execute(
        _sql(cursor.db).lists,
        [
            pass_obj.shift_id if pass_obj is not None else None,
            pass_obj.pk if pass_obj is not None else None,
            event_id,
        ],
    )
    return [
        ListState(
            id=r[0],
            include_volunteers=bool(r[1]),
            include_attendees=bool(r[2]),
            allow_multiple_entries=bool(r[3]),
            allow_entry_after_exit=bool(r[4]),
            has_shifts=bool(r[5]),
            pass_shift_on=bool(r[6]),
            presence_id=r[7],
            inside=bool(r[8]),
            entries=r[9] or 0,
            last_entry_at=aware(r[10]),
            last_entry_gate=r[11] or "",
        )
        for r in cursor.fetchall()
    ]


# --- recording -------------------------------------------------------------------------------------


def scan_record(
    cursor: Any,
    *,
    event_id: int,
    redeem: Redeem,
    decision: Decision,
    pass_obj: Pass | None,
    received: datetime,
    late: bool,
    scanner_id: int | None,
    device: str,
    source: str,
    registered: ScanDevice | None = None,
) -> Checkin:
    """Write what the decision says (the numbered row, counters, presence, the pass's stay) with
    this database's writer, and return the row as written, its pass up to date."""
    lst = decision.list
    values: dict[str, Any] = {
        "event_id": event_id,
        "pass_obj_id": pass_obj.pk if pass_obj is not None else None,
        "list_id": lst.id if lst is not None else None,
        "kind": redeem.kind,
        "status": Checkin.Status.OK if decision.ok else Checkin.Status.ERROR,
        "reason": decision.reason,
        "scanned_at": redeem.scanned_at,
        "received_at": received,
        "late": late,
        "nonce": redeem.nonce,
        "device": device,
        "source": source,
        "scanner_id": scanner_id,
        "entry_at": decision.entry_at,
        "device_ref_id": registered.id if registered is not None else None,
        "gate": registered.gate if registered is not None else "",
        "entry_gate": decision.entry_gate,
        "forced": redeem.forced,
        "conflict": decision.conflict,
    }
    moved = decision.stay is not None
    write = store_postgres.write if cursor.db.vendor == "postgresql" else store_sqlite.write
    written = write(
        cursor,
        ScanWrite(
            values=values,
            deltas=decision.deltas,
            stay=decision.stay,
            pass_id=values["pass_obj_id"],
            presence_id=lst.presence_id if lst is not None else None,
            gate_id=registered.gate_id if registered is not None else None,
            gate_entries=int(moved and redeem.kind == Kind.ENTRY),
            gate_exits=int(moved and redeem.kind == Kind.EXIT),
        ),
    )
    if written is None:
        raise Event.DoesNotExist(f"no event {event_id}")
    row = Checkin(id=written.row_id, seq=written.seq, counts=written.counts, **values)
    row._state.adding = False
    row._state.db = cursor.db.alias
    if pass_obj is not None:
        if decision.stay is not None:
            decision.stay.apply(pass_obj, seq=written.seq)
        row.pass_obj = pass_obj
    return row
