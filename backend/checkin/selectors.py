"""Check-in reads: live counts, snapshots and replays for dashboards, passes, offline bundles,
and the lookups the API makes before it calls a service (each refusing with the field named)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_is_platform_admin, user_scope_ids
from backend.checkin import conf
from backend.checkin.models import (
    Checkin,
    CheckinList,
    Device,
    Event,
    EventSequence,
    GateCount,
    Kind,
    Pass,
)
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.volunteers.models import ServicePost, Shift

#: The most rows one API page returns.
PAGE_MAX = 100


def group_name(event_id: int) -> str:
    return f"event.{event_id}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _feed_type(row: Checkin) -> str:
    if row.kind == Kind.ANNUL:
        return "annulled"
    return "conflict" if row.conflict else "checkin"


def checkin_feed_message(row: Checkin) -> dict[str, Any]:
    """The dashboard message for one recorded row (live and replayed alike): ``checkin`` for a
    scan, ``conflict`` for a forced scan we would have refused, ``annulled`` for an annulment."""
    pass_obj = row.pass_obj
    counts = row.counts or {}
    out = {
        "type": _feed_type(row),
        "seq": row.seq,
        "kind": row.kind,
        "status": row.status,
        "reason": row.reason or None,
        "pass": None
        if pass_obj is None
        else {"id": pass_obj.pk, "name": pass_obj.masked_name, "kind": pass_obj.kind},
        "list": row.list_id,
        "scanned_at": _iso(row.scanned_at),
        "received_at": _iso(row.received_at),
        "late": row.late,
        "source": row.source,
        "checked_in": counts.get("checked_in"),
        "inside": counts.get("inside"),
        "list_counts": counts.get("list"),
        "gate": row.gate or None,
        "gate_counts": counts.get("gate"),
    }
    if row.conflict:
        out.update(
            forced=row.forced,
            conflict=row.conflict,
            entry_at=_iso(row.entry_at),
            entry_gate=row.entry_gate or None,
        )
    if row.kind == Kind.ANNUL and row.annuls is not None:
        out.update(annulled_seq=row.annuls.seq, annulled_kind=row.annuls.kind, note=row.note)
    return out


def event_get(*, event_id: int) -> Event | None:
    return Event.objects.select_related("organisation").filter(pk=event_id).first()


def event_stats(*, event: Event) -> dict[str, Any]:
    """``seq`` and the counts as of that seq (event-wide: distinct passes; per list; per gate).
    Every figure is a kept counter, updated in the transaction that changed it (scans, exits,
    annulments, passes issued and voided): three reads of a few rows at any size."""
    seq = EventSequence.objects.values("last_seq", "checked_in", "inside", "passes").get(pk=event.pk)
    lists = (
        CheckinList.objects.filter(event_id=event.pk)
        .order_by("id")
        .values("id", "name", "checked_in", "inside", "auto_checked_out")
    )
    gates = GateCount.objects.filter(event_id=event.pk).order_by("gate").values("gate", "entries", "exits")
    return {
        "event": event.pk,
        "seq": seq["last_seq"],
        "passes": seq["passes"],
        "checked_in": seq["checked_in"],
        "inside": seq["inside"],
        # Exits made by the lists' daily automatic check-out (source "auto" in the feed).
        "auto_checked_out": sum(item["auto_checked_out"] for item in lists),
        "by_list": [dict(item) for item in lists],
        "by_gate": [dict(item) for item in gates],
    }


def event_snapshot(*, event: Event) -> dict[str, Any]:
    stats = event_stats(event=event)
    rows = list(
        Checkin.objects.filter(event_id=event.pk, seq__lte=stats["seq"])
        .select_related("pass_obj", "annuls")
        .order_by("-seq")[: conf.recent_count()]
    )
    return {
        "type": "snapshot",
        **stats,
        "title": event.title,
        "starts_at": _iso(event.starts_at),
        "ends_at": _iso(event.ends_at),
        "recent": [checkin_feed_message(row) for row in reversed(rows)],
    }


def event_last_seq(*, event_id: int) -> int:
    """The event's latest feed position (dashboards compare theirs after a channel-layer outage)."""
    return EventSequence.objects.values_list("last_seq", flat=True).filter(pk=event_id).first() or 0


def checkin_replay(*, event_id: int, after: int, upto: int | None = None) -> list[dict[str, Any]] | None:
    """Feed messages with ``after < seq <= upto``; ``None`` when that is more than a dashboard
    should replay (it gets a new snapshot instead). Rows commit in seq order, so once ``upto`` is
    visible, everything below it is too."""
    if upto is None:
        upto = EventSequence.objects.values_list("last_seq", flat=True).get(pk=event_id)
    if after < 0 or after > upto or upto - after > conf.replay_max():
        return None
    rows = (
        Checkin.objects.filter(event_id=event_id, seq__gt=after, seq__lte=upto)
        .select_related("pass_obj", "annuls")
        .order_by("seq")
    )
    return [checkin_feed_message(row) for row in rows]


def events_for_user(*, user: Any) -> QuerySet[Event]:
    qs = Event.objects.select_related("organisation").order_by("-starts_at", "-id")
    if user_is_platform_admin(user):
        return qs
    event_ids = set(user_scope_ids(user, Role.COORDINATOR, ScopeType.EVENT)) | set(
        user_scope_ids(user, Role.SCANNER, ScopeType.EVENT)
    )
    org_ids = user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION)
    return qs.filter(
        Q(pk__in=[int(i) for i in event_ids if i.isdigit()])
        | Q(organisation_id__in=[int(i) for i in org_ids if i.isdigit()])
    )


def passes_for_holder(*, user: Any) -> QuerySet[Pass]:
    return (
        Pass.objects.filter(holder_id=user.pk, status=Pass.Status.VALID)
        .select_related("event")
        .order_by("-event__starts_at", "-id")
    )


def passes_of_event(*, event: Event) -> QuerySet[Pass]:
    return Pass.objects.filter(event_id=event.pk).order_by("id")


def passes_matching(*, event: Event, query: str, by_phone: bool) -> list[Pass]:
    """The event's valid passes whose holder's name contains ``query``, or (``by_phone``) whose
    holder's mobile number ends with it; at most ``LINLI_CHECKIN_SEARCH_MAX``, one query."""
    qs = Pass.objects.filter(event_id=event.pk, status=Pass.Status.VALID)
    qs = qs.filter(holder__phone__endswith=query) if by_phone else qs.filter(holder_name__icontains=query)
    return list(qs.order_by("holder_name", "id")[: conf.search_max()])


def checkins_of_event(*, event: Event) -> QuerySet[Checkin]:
    return Checkin.objects.filter(event_id=event.pk).select_related("pass_obj", "annuls").order_by("seq")


def checkins_page(*, event: Event, cursor: str | None, limit: int) -> tuple[list[Checkin], str | None]:
    """The event's scans by ``seq`` in ascending order; the cursor is the plain last ``seq`` (the
    same number the live socket sends), so it keeps its own format rather than the opaque shared
    one used for the id-keyed lists."""
    return _seq_page(checkins_of_event(event=event), cursor=cursor, limit=limit)


def _seq_page(qs: QuerySet[Checkin], *, cursor: str | None, limit: int) -> tuple[list[Checkin], str | None]:
    after = _seq_cursor(cursor)
    limit = max(1, min(limit, PAGE_MAX))
    if after is not None:
        qs = qs.filter(seq__gt=after)
    rows = list(qs.order_by("seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].seq) if more and rows else None)


def conflicts_page(*, event: Event, cursor: str | None, limit: int) -> tuple[list[Checkin], str | None]:
    """Forced scans we would have refused, by ``seq`` (the same cursor as the scan log)."""
    return _seq_page(checkins_of_event(event=event).exclude(conflict=""), cursor=cursor, limit=limit)


def devices_of_event(*, event: Event) -> QuerySet[Device]:
    return Device.objects.filter(event_id=event.pk).order_by("id")


def _seq_cursor(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationFailed(errors=[field_error("cursor", "invalid", T("格式不正确。", "Invalid value."))])
    return int(value)


def lists_of_event(*, event: Event) -> QuerySet[CheckinList]:
    return event.lists.prefetch_related("shifts").order_by("id")


# --- lookups before a service ----------------------------------------------------------------------


def venue_post_get(*, venue_post_id: int | None) -> ServicePost | None:
    """The service post an event is held at, or a ``venue_post_id`` field error."""
    if venue_post_id is None:
        return None
    post = ServicePost.objects.filter(pk=venue_post_id).first()
    if post is None:
        raise ValidationFailed(
            errors=[field_error("venue_post_id", "not_found", T("找不到该服务岗。", "No such post."))]
        )
    return post


def shifts_get(*, shift_ids: list[int]) -> list[Shift]:
    """The shifts with these ids (with their activity), or a ``shift_ids`` field error if any is missing."""
    shifts = list(Shift.objects.select_related("activity").filter(pk__in=shift_ids))
    if len(shifts) != len(set(shift_ids)):
        raise ValidationFailed(
            errors=[field_error("shift_ids", "not_found", T("找不到该班次。", "No such shift."))]
        )
    return shifts


def staff_candidate_get(*, user_id: int) -> User:
    """An active user who can be made staff of an event, or a ``user_id`` field error."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed(
            errors=[field_error("user_id", "not_found", T("找不到该用户。", "No such user."))]
        )
    return user
