"""Annulments: undo an admitted scan (a wrong pass scanned, a person who turned back at the door).

An annulment is a new row (kind ``annul``, its own ``seq``, pointing at the scan it annuls); the
scan itself stays as it was. Who may: the device that made the scan within
``conf.annul_window_seconds()`` (default 15 minutes after it reached us), or a coordinator of the
event at any time. In one transaction with the pass locked, the pass's state is recomputed from
its scans that still count (``backend.checkin.redeem.fold``); the event's, the list's and the
gate's counters move by the difference; a volunteer's service records follow the stays that
remain (a stay that no longer ended as recorded is withdrawn, one that now ends differently is
recorded); the dashboards get an ``annulled`` message after commit; the annulment is audited.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.checkin import conf
from backend.checkin.errors import (
    AlreadyAnnulled,
    AnnulNotAllowed,
    AnnulTooLate,
    NotAnnullable,
    UnknownNonce,
)
from backend.checkin.models import (
    Checkin,
    CheckinList,
    Event,
    EventSequence,
    GateCount,
    Kind,
    Pass,
    Presence,
)
from backend.checkin.permissions import Action
from backend.checkin.redeem.fold import Effective, PassFold, Stay, fold
from backend.checkin.selectors import checkin_feed_message, group_name
from backend.checkin.services.devices import device_check
from backend.checkin.services.scans import stay_record, stay_ref
from backend.core.audit import audit_record
from backend.core.db import run_retrying
from backend.core.permissions import can
from backend.runtime.broadcast import publish_after_commit
from backend.volunteers.services import attendance_withdraw

REASON_MAX = 200


@dataclass(frozen=True)
class AnnulBy:
    """Who asks: the user, and the device they scan with (a registered device id, or the
    device string a scan is recorded with: the one the scanner named, else its session)."""

    user: Any
    device_id: int | None = None
    device: str = ""
    source: str = Checkin.Source.HTTP


def checkin_annul(*, event: Event, nonce: str, reason: str, by: AnnulBy) -> Checkin:
    """Annul the admitted scan ``nonce`` of ``event``; returns the annulment row."""
    reason = (reason or "").strip()[:REASON_MAX]
    return run_retrying(lambda: _annul(event=event, nonce=nonce, reason=reason, by=by))


def _annul(*, event: Event, nonce: str, reason: str, by: AnnulBy) -> Checkin:
    now = timezone.now()
    with transaction.atomic():
        target = Checkin.objects.filter(event_id=event.pk, nonce=nonce).exclude(kind=Kind.ANNUL).first()
        if target is None:
            raise UnknownNonce(nonce=nonce)
        if target.status != Checkin.Status.OK or target.pass_obj_id is None or target.list_id is None:
            raise NotAnnullable(nonce=nonce, status=target.status, reason=target.reason)
        _check_allowed(event=event, target=target, by=by, now=now)
        pass_obj = Pass.objects.select_for_update().get(pk=target.pass_obj_id)
        if Checkin.objects.filter(annuls=target).exists():
            raise AlreadyAnnulled(nonce=nonce)
        before = _effective(pass_obj)
        after = fold(row for row in before if row.id != target.pk)
        lists = _apply(pass_obj=pass_obj, after=after)
        counts = _recount(event_id=event.pk, pass_obj=pass_obj, after=after, lists=lists, target=target)
        _follow_attendance(pass_obj=pass_obj, before=fold(before).stays, after=after.stays, by=by.user)
        _write_pass(pass_obj=pass_obj, after=after)
        row = _annulment_row(event=event, target=target, reason=reason, by=by, now=now, counts=counts)
        audit_record(
            actor=by.user,
            action="checkin.annulled",
            target=target,
            data={"event": event.pk, "nonce": nonce, "seq": target.seq, "annulment_seq": row.seq},
            reason=reason,
        )
        text = json.dumps(checkin_feed_message(row), ensure_ascii=False, separators=(",", ":"))
        publish_after_commit(group_name(event.pk), {"type": "checkin.recorded", "seq": row.seq, "text": text})
    return row


def _check_allowed(*, event: Event, target: Checkin, by: AnnulBy, now: datetime) -> None:
    """Coordinators annul at any time; the device that scanned, within the window."""
    if by.device_id is not None:
        device_check(event_id=event.pk, device_id=by.device_id)
    if can(by.user, Action.ANNUL_ANYTIME, event):
        return
    if target.device_ref_id is not None:
        same = by.device_id == target.device_ref_id
    else:
        same = by.device_id is None and bool(by.device) and by.device == target.device
    if not same:
        raise AnnulNotAllowed(nonce=target.nonce)
    window = conf.annul_window_seconds()
    if now - target.received_at > timedelta(seconds=window):
        raise AnnulTooLate(nonce=target.nonce, window_seconds=window)


def _effective(pass_obj: Pass) -> list[Effective]:
    rows = (
        Checkin.objects.filter(
            pass_obj=pass_obj,
            status=Checkin.Status.OK,
            kind__in=[Kind.ENTRY, Kind.EXIT],
            list__isnull=False,
            annulment__isnull=True,
        )
        .order_by("seq")
        .values_list("id", "seq", "list_id", "kind", "scanned_at", "received_at")
    )
    return [
        Effective(id=pk, seq=seq, list_id=list_id, kind=kind, at=min(scanned, received))
        for pk, seq, list_id, kind, scanned, received in rows
    ]


@dataclass(frozen=True)
class _ListDelta:
    list_id: int
    checked_in: int
    inside: int


def _apply(*, pass_obj: Pass, after: PassFold) -> list[_ListDelta]:
    """Bring the pass's presences to what the fold says; the lists' counter changes."""
    deltas = []
    for presence in Presence.objects.filter(pass_obj=pass_obj).order_by("list_id"):
        new = after.on(presence.list_id)
        deltas.append(
            _ListDelta(
                list_id=presence.list_id,
                checked_in=int(new.entries > 0) - int(presence.entries > 0),
                inside=int(new.inside) - int(presence.inside),
            )
        )
        Presence.objects.filter(pk=presence.pk).update(
            inside=new.inside,
            entries=new.entries,
            last_entry_id=new.last_entry_id,
            last_exit_at=new.last_exit_at,
        )
    return deltas


def _recount(
    *, event_id: int, pass_obj: Pass, after: PassFold, lists: list[_ListDelta], target: Checkin
) -> dict[str, Any]:
    """Move the kept counters by the difference; the counts right after, as a scan stores them."""
    # The event's row first, then the lists', then the gate's: the order a scan updates them in.
    EventSequence.objects.filter(pk=event_id).update(
        last_seq=F("last_seq") + 1,
        checked_in=F("checked_in") + int(after.checked_in) - int(pass_obj.first_entry_at is not None),
        inside=F("inside") + int(after.inside) - int(pass_obj.inside_lists > 0),
    )
    for delta in lists:
        if delta.checked_in or delta.inside:
            CheckinList.objects.filter(pk=delta.list_id).update(
                checked_in=F("checked_in") + delta.checked_in, inside=F("inside") + delta.inside
            )
    seq = EventSequence.objects.values("last_seq", "checked_in", "inside").get(pk=event_id)
    assert target.list_id is not None  # only scans on a list are annulled
    lst = CheckinList.objects.values("checked_in", "inside").get(pk=target.list_id)
    counts: dict[str, Any] = {
        "seq": seq["last_seq"],
        "checked_in": seq["checked_in"],
        "inside": seq["inside"],
        "list": {"id": target.list_id, **lst},
    }
    moved = target.kind == Kind.ENTRY or target.entry_at is not None  # an exit that took someone out
    if target.gate and moved:
        gates = GateCount.objects.filter(event_id=event_id, gate=target.gate)
        field = "entries" if target.kind == Kind.ENTRY else "exits"
        gates.update(**{field: F(field) - 1})
        gate = gates.values("entries", "exits").first()
        if gate is not None:
            counts["gate"] = {"gate": target.gate, **gate}
    return counts


def _follow_attendance(*, pass_obj: Pass, before: list[Stay], after: list[Stay], by: Any) -> None:
    """Service records follow the stays: withdrawn where a stay no longer ended so, recorded
    where one now ends differently."""
    if pass_obj.signup_id is None:
        return
    gone = [stay for stay in before if stay not in after]
    new = [stay for stay in after if stay not in before]
    for stay in gone:
        attendance_withdraw(external_ref=stay_ref(pass_obj, stay.seq), by=by, reason="checkin_annulled")
    for stay in new:
        stay_record(pass_obj=pass_obj, stay_seq=stay.seq, start=stay.start, end=stay.end, recorder=by)


def _write_pass(*, pass_obj: Pass, after: PassFold) -> None:
    Pass.objects.filter(pk=pass_obj.pk).update(
        first_entry_at=after.first_entry_at,
        inside_lists=after.inside_lists,
        inside_since=after.inside_since,
        stay_seq=after.stay_seq,
    )


def _annulment_row(
    *, event: Event, target: Checkin, reason: str, by: AnnulBy, now: datetime, counts: dict[str, Any]
) -> Checkin:
    seq = counts.pop("seq")
    recorder = by.user if getattr(by.user, "is_authenticated", False) else None
    return Checkin.objects.create(
        event=event,
        seq=seq,
        pass_obj_id=target.pass_obj_id,
        list_id=target.list_id,
        kind=Kind.ANNUL,
        status=Checkin.Status.OK,
        scanned_at=now,
        received_at=now,
        # Unguessable: a scanner's redeem can never name (and be answered with) an annulment.
        nonce=f"annul:{target.seq}:{secrets.token_hex(12)}",
        device=by.device[:64],
        device_ref_id=by.device_id if by.device_id == target.device_ref_id else None,
        gate=target.gate,
        source=by.source,
        scanner=recorder,
        annuls=target,
        note=reason,
        counts=counts,
    )
