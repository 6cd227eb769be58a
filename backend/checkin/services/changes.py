"""The offline bundle's change log: every change a scanner's bundle must learn is numbered per
event, in the transaction that makes it (``backend.checkin.offline`` reads it for the delta sync).

The number comes from the event's ``BundleSequence`` row, incremented with a conditional UPDATE
that locks the row until the transaction ends: two changes of one event commit in number order,
and a rolled-back change gives its number back, so a reader that sees N has seen 1..N. The row
is not the scan counter's (``EventSequence``), so blocking a pass or changing a list never waits
on the door's scans. Lock order: a transaction that also updates the event's ``EventSequence``
(issuing or voiding a pass counts it there) updates that row first, then this one.
"""

from __future__ import annotations

from django.db import connections, transaction

from backend.checkin.models import BundleChange, BundleSequence


def _next_change(event_id: int) -> int | None:
    table = connections[BundleSequence.objects.db].ops.quote_name(BundleSequence._meta.db_table)
    with connections[BundleSequence.objects.db].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_change = last_change + 1 WHERE event_id = %s RETURNING last_change",
            [event_id],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def bundle_change_record(*, event_id: int, kind: str, pass_id: int | None = None, token_id: str = "") -> int:
    """Number and log one change (inside the caller's transaction); returns its number."""
    if not transaction.get_connection(BundleSequence.objects.db).in_atomic_block:
        raise RuntimeError("bundle_change_record runs inside the change's transaction")
    seq = _next_change(event_id)
    if seq is None:  # an event older than the change log, or created around event_create
        BundleSequence.objects.get_or_create(event_id=event_id)
        seq = _next_change(event_id)
        assert seq is not None
    BundleChange.objects.create(event_id=event_id, seq=seq, kind=kind, pass_obj_id=pass_id, token_id=token_id)
    return seq
