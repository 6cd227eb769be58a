"""The writes of one scan as one statement: PostgreSQL's writer (data-modifying CTEs).

A scan is then five round trips in all (begin, lock, lists, writes, commit) instead of nine.
The list's counters are updated even by zero: the update waits for and reads the latest
committed counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.checkin.redeem._sql import (
    CHECKIN_COLUMNS,
    ScanWrite,
    Tables,
    Written,
    checkin_params,
    counts_of,
    per_vendor,
)
from backend.checkin.redeem.decide import StayChange


@dataclass(frozen=True)
class _Parts:
    seq: str
    list: str
    gate: str
    checkin: dict[tuple[bool, bool], str]  # by (with a list, with a gate)
    final: dict[tuple[bool, bool], str]
    presence_insert: str
    presence_enter: str
    presence_exit: str
    pass_update: str


@per_vendor
def _sql(connection: Any) -> _Parts:
    t = Tables.of(connection)
    # %s for every column but seq (from the sequence update) and counts (built here).
    row = "%s, s.last_seq, " + ", ".join(["%s"] * (len(CHECKIN_COLUMNS) - 3))
    counts = "jsonb_build_object('checked_in', s.checked_in, 'inside', s.inside)"
    list_counts = (
        "jsonb_build_object('list', jsonb_build_object('id', %s::bigint, 'checked_in', l.checked_in, "
        "'inside', l.inside))"
    )
    gate_counts = (
        "jsonb_build_object('gate', jsonb_build_object('gate', %s::text, 'entries', g.entries, "
        "'exits', g.exits))"
    )
    checkin, final = {}, {}
    for with_list in (False, True):
        for with_gate in (False, True):
            key = (with_list, with_gate)
            sources = "s" + (", l" if with_list else "") + (", g" if with_gate else "")
            expr = (
                counts
                + (f" || {list_counts}" if with_list else "")
                + (f" || {gate_counts}" if with_gate else "")
            )
            checkin[key] = (
                f"c AS (INSERT INTO {t.checkins} ({t.columns}) SELECT {row}, {expr} FROM {sources} "
                "RETURNING id, seq)"
            )
            final[key] = (
                "SELECT c.id, c.seq, s.checked_in, s.inside"
                + (", l.checked_in, l.inside" if with_list else "")
                + (", g.entries, g.exits" if with_gate else "")
                + f" FROM c, {sources}"
            )
    return _Parts(
        seq=(
            f"s AS (UPDATE {t.seq} SET last_seq = last_seq + 1, checked_in = checked_in + %s, "
            "inside = inside + %s WHERE event_id = %s RETURNING last_seq, checked_in, inside)"
        ),
        list=(
            f"l AS (UPDATE {t.lists} SET checked_in = checked_in + %s, inside = inside + %s "
            "WHERE id = %s RETURNING checked_in, inside)"
        ),
        gate=(
            f"g AS (UPDATE {t.gates} SET entries = entries + %s, exits = exits + %s WHERE id = %s "
            "RETURNING entries, exits)"
        ),
        checkin=checkin,
        final=final,
        presence_insert=(
            f"pr AS (INSERT INTO {t.presence} (pass_id, list_id, inside, entries, last_entry_id) "
            "SELECT %s, %s, TRUE, 1, c.id FROM c)"
        ),
        presence_enter=(
            f"pr AS (UPDATE {t.presence} SET inside = TRUE, entries = entries + 1, "
            "last_entry_id = (SELECT id FROM c) WHERE id = %s)"
        ),
        presence_exit=f"pr AS (UPDATE {t.presence} SET inside = FALSE, last_exit_at = %s WHERE id = %s)",
        pass_update=(
            f"pu AS (UPDATE {t.passes} SET first_entry_at = %s, inside_lists = %s, inside_since = %s, "
            "stay_seq = CASE WHEN %s THEN (SELECT seq FROM c) ELSE %s::bigint END WHERE id = %s)"
        ),
    )


def write(cursor: Any, scan: ScanWrite) -> Written | None:
    """Number, count and insert the scan, and move the pass's presence and stay (and count it at
    its gate), in one statement. None when the event has no sequence row (no such event)."""
    sql = _sql(cursor.db)
    adapt = cursor.db.ops.adapt_datetimefield_value
    deltas, list_id = scan.deltas, scan.list_id
    key = (list_id is not None, scan.counts_gate)
    parts = [sql.seq]
    params: list[Any] = [deltas.event_checked_in, deltas.event_inside, scan.event_id]
    if list_id is not None:
        parts.append(sql.list)
        params += [deltas.list_checked_in, deltas.list_inside, list_id]
    if scan.counts_gate:
        parts.append(sql.gate)
        params += [scan.gate_entries, scan.gate_exits, scan.gate_id]
    parts.append(sql.checkin[key])
    params += checkin_params(scan.values, adapt)
    if list_id is not None:
        params.append(list_id)
    if scan.counts_gate:
        params.append(scan.values["gate"])
    if scan.stay is not None and scan.pass_id is not None:
        stay_parts, stay_params = _stay(sql, scan, scan.stay, scan.pass_id, adapt)
        parts += stay_parts
        params += stay_params
    cursor.execute("WITH " + ", ".join(parts) + " " + sql.final[key], params)
    found = cursor.fetchone()
    if found is None:
        return None
    row_id, seq, *rest = found
    list_row = rest[2:4] if list_id is not None else None
    gate_row = rest[-2:] if scan.counts_gate else None
    return Written(row_id=row_id, seq=seq, counts=counts_of(rest[:2], list_id, list_row, gate_row, scan))


def _stay(
    sql: _Parts, scan: ScanWrite, stay: StayChange, pass_id: int, adapt: Any
) -> tuple[list[str], list[Any]]:
    """The presence and pass updates as CTE parts, with their parameters."""
    params: list[Any]
    if stay.presence == "insert":
        parts, params = [sql.presence_insert], [pass_id, scan.list_id]
    elif stay.presence == "enter":
        parts, params = [sql.presence_enter], [scan.presence_id]
    else:
        parts, params = [sql.presence_exit], [adapt(stay.exit_at), scan.presence_id]
    parts.append(sql.pass_update)
    params += [
        adapt(stay.first_entry_at),
        stay.inside_lists,
        adapt(stay.inside_since),
        stay.new_stay,
        stay.stay_seq,
        pass_id,
    ]
    return parts, params
