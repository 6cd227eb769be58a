"""The scanner's offline bundle, full or as a delta since a cursor, produced chunk by chunk.

What a scanner needs to decide without us: the public keys (JWKS) to check signatures, the
lists' rules, the valid passes (token id, kind, masked name, blocked, lists it counts on,
entered) and the revoked token ids. Pass ids are the random token ids inside the secrets, so the
bundle holds no secret that would admit anyone.

Cursors. A cursor names two positions of the event: its bundle change counter
(``BundleSequence.last_change``, one number per ``BundleChange``: pass added, voided, re-issued,
blocked or unblocked, list rules changed) and its scan counter (``EventSequence.last_seq``, one
number per scan). Both are incremented with their row locked in the transaction of what they
number, so numbers commit in order and without gaps: once a reader sees N, every change up to N
is visible to it. Every answer reads both counters *before* reading any data and hands them back
as the new cursor, so a change committed while the answer is read is either in the answer or
after the cursor; it is never lost, at worst sent twice (applying the delta is idempotent).

A delta since a cursor holds the current state of every pass a change or a scan touched after
it (valid ones in ``passes``; voided ones appear only as their token ids in ``revoked``), the
token ids revoked after it, and the lists. When a list's rules changed after the cursor every
pass's ``lists`` may change: the answer is then the full bundle (``"full": true``).

The full bundle reads the passes in keyset chunks (``CHUNK`` rows a query, only the columns it
needs, formatted straight into JSON text): no model instance per pass, and the memory of one
chunk whatever the event's size.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.utils import timezone

from backend.checkin import conf
from backend.checkin.errors import BundleCursorExpired, BundleCursorInvalid
from backend.checkin.models import (
    BundleChange,
    BundleSequence,
    Checkin,
    CheckinList,
    Event,
    EventSequence,
    Pass,
    RevokedSecret,
)
from backend.checkin.redeem.decide import list_admits
from backend.core import keys
from backend.core.masking import mask_name

#: Passes read per query for the full bundle.
CHUNK = 5000
TOKEN_DOMAIN = "linli/pass/v1"
_CURSOR_PREFIX = "b1"
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\u2028\u2029]')


@dataclass(frozen=True)
class BundleCursor:
    event_id: int
    change: int  # BundleSequence.last_change
    scan: int  # EventSequence.last_seq

    def encode(self) -> str:
        raw = f"{_CURSOR_PREFIX}:{self.event_id}:{self.change}:{self.scan}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(text: str, *, event_id: int) -> BundleCursor:
    """The cursor a bundle of this event handed out, or ``BundleCursorInvalid`` (422)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        prefix, event, change, scan = raw.split(":")
        cursor = BundleCursor(event_id=int(event), change=int(change), scan=int(scan))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BundleCursorInvalid() from None
    if prefix != _CURSOR_PREFIX or cursor.event_id != event_id or cursor.change < 0 or cursor.scan < 0:
        raise BundleCursorInvalid()
    return cursor


def _now_cursor(event_id: int) -> BundleCursor:
    change = BundleSequence.objects.filter(pk=event_id).values_list("last_change", flat=True).first()
    scan = EventSequence.objects.filter(pk=event_id).values_list("last_seq", flat=True).first()
    return BundleCursor(event_id=event_id, change=change or 0, scan=scan or 0)


@dataclass(frozen=True)
class BundlePlan:
    """What one answer will hold: everything up to ``upto``, and only what changed after
    ``since`` (None: the full bundle)."""

    event: Event
    upto: BundleCursor
    since: BundleCursor | None


def bundle_plan(*, event: Event, since: str | None = None) -> BundlePlan:
    """Read the counters (the new cursor) and check ``since``: ``BundleCursorInvalid`` (422) for
    a cursor that is not one of this event's, ``BundleCursorExpired`` (410) for one ahead of the
    event (a database restored from a backup) or too far behind (more than
    ``LINLI_CHECKIN_DELTA_MAX`` changes): the scanner then fetches the full bundle."""
    old = cursor_decode(since, event_id=event.pk) if since else None
    upto = _now_cursor(event.pk)
    if old is None:
        return BundlePlan(event=event, upto=upto, since=None)
    if old.change > upto.change or old.scan > upto.scan:
        raise BundleCursorExpired(reason="unknown")
    if upto.change - old.change > conf.delta_max() or upto.scan - old.scan > conf.delta_max_scans():
        raise BundleCursorExpired(reason="too_old")
    lists_changed = BundleChange.objects.filter(
        event_id=event.pk,
        seq__gt=old.change,
        seq__lte=upto.change,
        kind=BundleChange.Kind.LIST_CHANGED,
    ).exists()
    return BundlePlan(event=event, upto=upto, since=None if lists_changed else old)


# --- the answer, chunk by chunk ---------------------------------------------------------------------


def bundle_chunks(plan: BundlePlan) -> Iterator[bytes]:
    """The bundle as JSON text in chunks: the header with the lists, the revoked ids, then the passes."""
    event = plan.event
    lists = list(CheckinList.objects.filter(event_id=event.pk).prefetch_related("shifts").order_by("id"))
    header = {
        "event": {
            "id": event.pk,
            "title": event.title,
            "starts_at": _iso(event.starts_at),
            "ends_at": _iso(event.ends_at),
            "checkin_opens_at": _iso(event.checkin_opens_at),
            "checkin_closes_at": _iso(event.checkin_closes_at),
        },
        "generated_at": _iso(timezone.now()),
        "seq": plan.upto.scan,
        "cursor": plan.upto.encode(),
        "full": plan.since is None,
        "keys": keys.public_jwks("pass"),
        "token_domain": TOKEN_DOMAIN,
        "lists": [_list_out(lst) for lst in lists],
    }
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":"))
    yield (text[:-1] + ',"revoked":').encode()
    yield json.dumps(_revoked(plan), separators=(",", ":")).encode()
    yield b',"passes":['
    formatter = _PassFormatter(lists)
    first = True
    for rows in _pass_rows(plan):
        body = ",".join(formatter.entry(row) for row in rows)
        if body:
            yield (body if first else "," + body).encode()
            first = False
    yield b"]}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _list_out(lst: CheckinList) -> dict[str, Any]:
    return {
        "id": lst.pk,
        "name": lst.name,
        "include_volunteers": lst.include_volunteers,
        "include_attendees": lst.include_attendees,
        "shifts": sorted(s.pk for s in lst.shifts.all()),
        "allow_multiple_entries": lst.allow_multiple_entries,
        "allow_entry_after_exit": lst.allow_entry_after_exit,
    }


def _revoked(plan: BundlePlan) -> list[str]:
    if plan.since is None:
        qs = RevokedSecret.objects.filter(event_id=plan.event.pk).order_by("id")
        return list(qs.values_list("token_id", flat=True))
    changes = (
        BundleChange.objects.filter(
            event_id=plan.event.pk, seq__gt=plan.since.change, seq__lte=plan.upto.change
        )
        .exclude(token_id="")
        .order_by("seq")
    )
    return list(changes.values_list("token_id", flat=True))


class _PassFormatter:
    """One pass row as the bundle's JSON object, without a dict or a model per pass."""

    def __init__(self, lists: list[CheckinList]) -> None:
        self.rules = [
            (lst.pk, lst.include_volunteers, lst.include_attendees, {s.pk for s in lst.shifts.all()})
            for lst in lists
        ]
        self.lists_json: dict[tuple[str, int | None], str] = {}

    def _lists(self, kind: str, shift_id: int | None) -> str:
        key = (kind, shift_id)
        found = self.lists_json.get(key)
        if found is None:
            ids = [
                pk
                for pk, volunteers, attendees, shifts in self.rules
                if list_admits(
                    kind=kind,
                    include_volunteers=volunteers,
                    include_attendees=attendees,
                    has_shifts=bool(shifts),
                    counts_shift=shift_id in shifts,
                )
            ]
            found = self.lists_json[key] = "[" + ",".join(map(str, ids)) + "]"
        return found

    def entry(self, row: tuple[Any, ...]) -> str:
        token_id, kind, name, blocked, shift_id, entered = row
        masked = mask_name(name)
        name_json = json.dumps(masked, ensure_ascii=False) if _NEEDS_ESCAPE.search(masked) else f'"{masked}"'
        return (
            f'{{"id":"{token_id}","kind":"{kind}","name":{name_json},'
            f'"blocked":{"true" if blocked else "false"},"lists":{self._lists(kind, shift_id)},'
            f'"entered":{"true" if entered else "false"}}}'
        )


def _pass_rows(plan: BundlePlan) -> Iterator[list[tuple[Any, ...]]]:
    """Valid passes as (token_id, kind, holder_name, blocked, shift_id, entered) rows, in chunks."""
    connection = connections[Pass.objects.db]
    q = connection.ops.quote_name
    passes = q(Pass._meta.db_table)
    columns = (
        f"p.id, p.token_id, p.kind, p.holder_name, p.blocked, p.shift_id, "
        f"p.first_entry_at IS NOT NULL FROM {passes} p"
    )
    if plan.since is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} WHERE p.event_id = %s AND p.status = %s AND p.id IN ("
                f"SELECT c.pass_id FROM {q(BundleChange._meta.db_table)} c WHERE c.event_id = %s "
                "AND c.seq > %s AND c.seq <= %s AND c.pass_id IS NOT NULL UNION "
                f"SELECT s.pass_id FROM {q(Checkin._meta.db_table)} s WHERE s.event_id = %s "
                "AND s.seq > %s AND s.seq <= %s AND s.pass_id IS NOT NULL) ORDER BY p.id",
                [
                    plan.event.pk,
                    Pass.Status.VALID,
                    plan.event.pk,
                    plan.since.change,
                    plan.upto.change,
                    plan.event.pk,
                    plan.since.scan,
                    plan.upto.scan,
                ],
            )
            yield [row[1:] for row in cursor.fetchall()]
        return
    after = 0
    sql = f"SELECT {columns} WHERE p.event_id = %s AND p.status = %s AND p.id > %s ORDER BY p.id LIMIT %s"
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [plan.event.pk, Pass.Status.VALID, after, CHUNK])
            rows = cursor.fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield [row[1:] for row in rows]
        if len(rows) < CHUNK:
            return


def bundle_stream(*, event: Event, since: str | None = None) -> Iterator[bytes]:
    """The answer to ``GET /events/{id}/offline-bundle[?since=]``: the cursor is checked and the
    counters read now (errors are raised here, before a byte is sent); the body follows as it is
    iterated."""
    return bundle_chunks(bundle_plan(event=event, since=since))
