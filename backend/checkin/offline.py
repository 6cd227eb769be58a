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

#: Passes read per query for the full bundle (about: the query reads an id range).
CHUNK = 5000
TOKEN_DOMAIN = "linli/pass/v1"
_CURSOR_PREFIX = "b1"
_CJK_FIRST, _CJK_LAST = "\u4e00", "\u9fff"  # CJK Unified Ideographs
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
    first = True
    for texts in _pass_rows(plan, _PassFormatter(lists)):
        body = ",".join(texts)
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
    """The pass rows as the bundle's JSON objects, composed by the database.

    The SELECT builds each object's text itself (``||``, the same on SQLite and PostgreSQL): the
    lists that take the pass come from a ``CASE`` on its kind and shift (a handful of outcomes,
    computed once here with the redeem's own rule), and a name made only of CJK ideographs (the
    common case) is masked in SQL exactly as ``mask_name`` does (first, ``*`` × (n − 2), last).
    Any other name (Latin letters, a separator such as ``·``, spaces) comes back raw and is
    masked and quoted here, so the rule has one definition for every shape of name."""

    def __init__(self, lists: list[CheckinList]) -> None:
        self.rules = [
            (lst.pk, lst.include_volunteers, lst.include_attendees, {s.pk for s in lst.shifts.all()})
            for lst in lists
        ]

    def lists_json(self, kind: str, shift_id: int | None) -> str:
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
        return "[" + ",".join(map(str, ids)) + "]"

    def lists_case(self) -> str:
        """SQL: the ``lists`` JSON text of pass ``p`` (literals of digits, brackets and commas only)."""
        shift_ids = sorted({sid for *_, shifts in self.rules for sid in shifts})
        whens = [f"WHEN p.kind = '{Pass.Kind.ATTENDEE}' THEN '{self.lists_json(Pass.Kind.ATTENDEE, None)}'"]
        whens += [
            f"WHEN p.shift_id = {int(sid)} THEN '{self.lists_json(Pass.Kind.VOLUNTEER, sid)}'"
            for sid in shift_ids
        ]
        return f"CASE {' '.join(whens)} ELSE '{self.lists_json(Pass.Kind.VOLUNTEER, None)}' END"

    def _sql_parts(self, vendor: str) -> tuple[str, str]:
        """(the condition "the name is CJK ideographs only", the pass's JSON text), as SQL."""
        n = "p.holder_name"
        if vendor == "postgresql":
            cjk = f"{n} ~ '^[{_CJK_FIRST}-{_CJK_LAST}]+$'"
        else:
            cjk = f"{n} <> '' AND {n} NOT GLOB '*[^{_CJK_FIRST}-{_CJK_LAST}]*'"
        stars = "*" * 50  # holder_name holds at most 50 characters
        masked = (
            f"CASE WHEN length({n}) = 1 THEN '*' ELSE substr({n}, 1, 1) || "
            f"substr('{stars}', 1, length({n}) - 2) || "
            f"CASE WHEN length({n}) = 2 THEN '*' ELSE substr({n}, length({n}), 1) END END"
        )
        blocked = "CASE WHEN p.blocked THEN 'true' ELSE 'false' END"
        entered = "CASE WHEN p.first_entry_at IS NULL THEN 'false' ELSE 'true' END"
        text = (
            f"""'{{"id":"' || p.token_id || '","kind":"' || p.kind || '","name":"' || {masked} || """
            f"""'","blocked":' || {blocked} || ',"lists":' || {self.lists_case()} || ',"entered":' """
            f"""|| {entered} || '}}'"""
        )
        return cjk, text

    def select(self, vendor: str, table: str) -> str:
        """SQL: (id, the JSON text or NULL, then token_id, kind, holder_name, blocked, shift_id,
        entered) for a pass whose name is left to Python."""
        cjk, text = self._sql_parts(vendor)
        return (
            f"SELECT p.id, CASE WHEN {cjk} THEN {text} END, p.token_id, p.kind, p.holder_name, "
            f"p.blocked, p.shift_id, p.first_entry_at IS NOT NULL FROM {table} p"
        )

    def chunk(self, vendor: str, table: str) -> tuple[str, str]:
        """SQL for one chunk of the full bundle, an id range (event, status, after, upto): (its
        rows, the rows it composed, their texts joined with commas), then the SQL for the rows of
        the range it left to Python."""
        cjk, text = self._sql_parts(vendor)
        joined = "string_agg(t, ',' ORDER BY id)" if vendor == "postgresql" else "group_concat(t, ',')"
        where = "WHERE p.event_id = %s AND p.status = %s AND p.id > %s AND p.id <= %s"
        rows = f"SELECT p.id AS id, CASE WHEN {cjk} THEN {text} END AS t FROM {table} p {where} ORDER BY p.id"
        left = f"{self.select(vendor, table)} {where} AND NOT ({cjk}) ORDER BY p.id"
        return f"SELECT count(*), count(t), {joined} FROM ({rows}) chunk", left

    def entry(self, row: tuple[Any, ...]) -> str:
        """A row whose name the database left raw."""
        _, text, token_id, kind, name, blocked, shift_id, entered = row
        if text is not None:
            return text
        masked = mask_name(name)
        name_json = json.dumps(masked, ensure_ascii=False) if _NEEDS_ESCAPE.search(masked) else f'"{masked}"'
        return (
            f'{{"id":"{token_id}","kind":"{kind}","name":{name_json},'
            f'"blocked":{"true" if blocked else "false"},"lists":{self.lists_json(kind, shift_id)},'
            f'"entered":{"true" if entered else "false"}}}'
        )


def _pass_rows(plan: BundlePlan, formatter: _PassFormatter) -> Iterator[list[str]]:
    """The valid passes' JSON texts, in chunks (the delta: one chunk of the passes it touched)."""
    connection = connections[Pass.objects.db]
    q = connection.ops.quote_name
    select = formatter.select(connection.vendor, q(Pass._meta.db_table))
    entry = formatter.entry
    if plan.since is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"{select} WHERE p.event_id = %s AND p.status = %s AND p.id IN ("
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
            yield [entry(row) for row in cursor.fetchall()]
        return
    # The full bundle, by id ranges of about CHUNK valid passes each (from the event's bounds;
    # a range query reads only its own rows, whatever the planner knows of the table, where
    # "ORDER BY id LIMIT n" after an id may sort every remaining pass for each chunk). A chunk's
    # texts come joined in one string; rows with a name the database does not mask (rare) come
    # in a second query and are formatted here.
    chunk_sql, left_sql = formatter.chunk(connection.vendor, q(Pass._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(id), max(id), count(*) FROM {q(Pass._meta.db_table)} WHERE event_id = %s AND status = %s",
            [plan.event.pk, Pass.Status.VALID],
        )
        low, high, total = cursor.fetchone()
    if not total:
        return
    width = max(CHUNK, -(-(high - low + 1) * CHUNK // total))
    after = low - 1
    while after < high:
        upto = min(after + width, high)
        params = [plan.event.pk, Pass.Status.VALID, after, upto]
        with connection.cursor() as cursor:
            cursor.execute(chunk_sql, params)
            count, composed, joined = cursor.fetchone()
            texts = [joined] if composed else []
            if composed < count:
                cursor.execute(left_sql, params)
                texts += [entry(row) for row in cursor.fetchall()]
        after = upto
        if texts:
            yield texts


def bundle_stream(*, event: Event, since: str | None = None) -> Iterator[bytes]:
    """The answer to ``GET /events/{id}/offline-bundle[?since=]``: the cursor is checked and the
    counters read now (errors are raised here, before a byte is sent); the body follows as it is
    iterated."""
    return bundle_chunks(bundle_plan(event=event, since=since))
