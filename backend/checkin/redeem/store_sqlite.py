"""The writes of one scan, one statement each: SQLite's writer (and any database but PostgreSQL).

In process a statement costs microseconds, so nothing is gained by combining them; the
transaction's write lock (``BEGIN IMMEDIATE``) already serialises every writer.
"""

from __future__ import annotations

import json
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
class _Statements:
    next_seq: str
    list_update: str
    list_read: str
    insert_checkin: str
    insert_presence: str
    enter_presence: str
    exit_presence: str
    update_pass: str
    gate_update: str


@per_vendor
def _sql(connection: Any) -> _Statements:
    t = Tables.of(connection)
    return _Statements(
        next_seq=(
            f"UPDATE {t.seq} SET last_seq = last_seq + 1, checked_in = checked_in + %s, "
            "inside = inside + %s WHERE event_id = %s RETURNING last_seq, checked_in, inside"
        ),
        list_update=(
            f"UPDATE {t.lists} SET checked_in = checked_in + %s, inside = inside + %s "
            "WHERE id = %s RETURNING checked_in, inside"
        ),
        list_read=f"SELECT checked_in, inside FROM {t.lists} WHERE id = %s",
        insert_checkin=(
            f"INSERT INTO {t.checkins} ({t.columns}) "
            f"VALUES ({', '.join(['%s'] * len(CHECKIN_COLUMNS))}) RETURNING id"
        ),
        insert_presence=(
            f"INSERT INTO {t.presence} (pass_id, list_id, inside, entries, last_entry_id, last_exit_at) "
            "VALUES (%s, %s, %s, %s, %s, NULL)"
        ),
        enter_presence=(
            f"UPDATE {t.presence} SET inside = %s, entries = entries + 1, last_entry_id = %s WHERE id = %s"
        ),
        exit_presence=f"UPDATE {t.presence} SET inside = %s, last_exit_at = %s WHERE id = %s",
        update_pass=(
            f"UPDATE {t.passes} SET first_entry_at = %s, inside_lists = %s, inside_since = %s, "
            "stay_seq = %s WHERE id = %s"
        ),
        gate_update=(
            f"UPDATE {t.gates} SET entries = entries + %s, exits = exits + %s WHERE id = %s "
            "RETURNING entries, exits"
        ),
    )


def write(cursor: Any, scan: ScanWrite) -> Written | None:
    """Number the scan, count it, insert its row, then move the pass's presence and stay.
    None when the event has no sequence row (no such event)."""
    sql = _sql(cursor.db)
    deltas, list_id = scan.deltas, scan.list_id
    cursor.execute(sql.next_seq, [deltas.event_checked_in, deltas.event_inside, scan.event_id])
    seq_row = cursor.fetchone()
    if seq_row is None:
        return None
    list_row = None
    if list_id is not None:
        if deltas.list_checked_in or deltas.list_inside:
            cursor.execute(sql.list_update, [deltas.list_checked_in, deltas.list_inside, list_id])
        else:
            cursor.execute(sql.list_read, [list_id])
        list_row = cursor.fetchone()
    gate_row = None
    if scan.counts_gate:
        cursor.execute(sql.gate_update, [scan.gate_entries, scan.gate_exits, scan.gate_id])
        gate_row = cursor.fetchone()
    seq = seq_row[0]
    counts = counts_of(seq_row[1:], list_id, list_row, gate_row, scan)
    params = checkin_params(scan.values, cursor.db.ops.adapt_datetimefield_value)
    params.insert(1, seq)
    cursor.execute(sql.insert_checkin, [*params, json.dumps(counts, separators=(",", ":"))])
    row_id = cursor.fetchone()[0]
    if scan.stay is not None and scan.pass_id is not None:
        _write_stay(cursor, sql, scan=scan, stay=scan.stay, pass_id=scan.pass_id, seq=seq, row_id=row_id)
    return Written(row_id=row_id, seq=seq, counts=counts)


def _write_stay(
    cursor: Any, sql: _Statements, *, scan: ScanWrite, stay: StayChange, pass_id: int, seq: int, row_id: int
) -> None:
    adapt = cursor.db.ops.adapt_datetimefield_value
    if stay.presence == "insert":
        cursor.execute(sql.insert_presence, [pass_id, scan.list_id, True, 1, row_id])
    elif stay.presence == "enter":
        cursor.execute(sql.enter_presence, [True, row_id, scan.presence_id])
    else:
        cursor.execute(sql.exit_presence, [False, adapt(stay.exit_at), scan.presence_id])
    cursor.execute(
        sql.update_pass,
        [
            adapt(stay.first_entry_at),
            stay.inside_lists,
            adapt(stay.inside_since),
            seq if stay.new_stay else stay.stay_seq,
            pass_id,
        ],
    )
