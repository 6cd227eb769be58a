"""Check-in writes: events, lists, passes, and the one redeem function every scan goes through.

``checkin_redeem`` serves the scanner websocket, the HTTP fallback and the offline upload alike
(as pretix's ``perform_checkin`` serves all of its callers). It checks the pass secret's
signature before touching the database, then, in one transaction with the pass row locked:
replays the first answer for a known nonce, decides (invalid → revoked → not_on_list/ambiguous →
blocked → invalid_time → already_redeemed), numbers the scan with the event's gapless sequence,
writes the append-only row, updates presence and counts, feeds a volunteer's stay into service
hours, and broadcasts the row to the event's dashboards after commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import Role, ScopeType
from backend.checkin import conf
from backend.checkin.errors import (
    InvalidEventTimes,
    InvalidRedeem,
    ListNotOfEvent,
    PassVoided,
    UploadTooLarge,
)
from backend.checkin.models import (
    Checkin,
    CheckinList,
    Event,
    EventSequence,
    Kind,
    Pass,
    Presence,
    Reason,
    RevokedSecret,
)
from backend.checkin.selectors import checkin_feed_message, group_name
from backend.core.audit import audit_record
from backend.core.errors import DomainError, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.core.signed_tokens import TokenError, new_token_id

log = logging.getLogger("linli.checkin")

NONCE_MAX = 64
DEVICE_MAX = 64


# --- events and lists ------------------------------------------------------------------------------


def _check_times(*, starts_at: datetime, ends_at: datetime, opens: datetime, closes: datetime) -> None:
    errors = []
    for name, value in (
        ("starts_at", starts_at),
        ("ends_at", ends_at),
        ("checkin_opens_at", opens),
        ("checkin_closes_at", closes),
    ):
        if timezone.is_naive(value):
            errors.append(
                field_error(name, "naive_datetime", T("时间须带时区。", "The time needs a UTC offset."))
            )
    if errors:
        raise InvalidEventTimes(errors=errors)
    if ends_at <= starts_at:
        errors.append(
            field_error(
                "ends_at", "before_start", T("结束时间须晚于开始时间。", "The end must be after the start.")
            )
        )
    if closes <= opens:
        errors.append(
            field_error(
                "checkin_closes_at",
                "before_open",
                T("签到结束须晚于签到开始。", "The window must close after it opens."),
            )
        )
    if errors:
        raise InvalidEventTimes(errors=errors)


def event_create(
    *,
    organisation: Any,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    checkin_opens_at: datetime | None = None,
    checkin_closes_at: datetime | None = None,
    venue: str = "",
    venue_post: Any = None,
    division_code: str = "",
    by: Any = None,
) -> Event:
    """A new event with its sequence row and a default list that counts every pass.

    The check-in window defaults to one hour before the start until the end.
    """
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(
            errors=[field_error("title", "required", T("此项必填。", "This field is required."))]
        )
    opens = checkin_opens_at or starts_at - timedelta(hours=1)
    closes = checkin_closes_at or ends_at
    _check_times(starts_at=starts_at, ends_at=ends_at, opens=opens, closes=closes)
    if venue_post is not None and getattr(venue_post, "organisation_id", organisation.pk) != organisation.pk:
        raise ValidationFailed(
            errors=[
                field_error(
                    "venue_post_id",
                    "not_of_organisation",
                    T("服务岗不属于该组织。", "The post is not of this organisation."),
                )
            ]
        )
    if not division_code:
        division_code = (
            getattr(venue_post, "division_code", "") or getattr(organisation, "division_code", "") or ""
        )
    with transaction.atomic():
        event = Event.objects.create(
            organisation=organisation,
            title=title[:200],
            venue=(venue or getattr(venue_post, "name", "") or "")[:200],
            venue_post=venue_post,
            division_code=division_code,
            starts_at=starts_at,
            ends_at=ends_at,
            checkin_opens_at=opens,
            checkin_closes_at=closes,
            created_by=by,
        )
        EventSequence.objects.create(event=event)
        CheckinList.objects.create(event=event, name="全部 All")
        audit_record(actor=by, action="checkin.event_created", target=event, data={"title": event.title})
    return event


def event_update(*, event: Event, by: Any = None, **changes: Any) -> Event:
    allowed = {
        "title",
        "venue",
        "starts_at",
        "ends_at",
        "checkin_opens_at",
        "checkin_closes_at",
        "division_code",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        for name, value in changes.items():
            if value is not None:
                setattr(event, name, value)
        _check_times(
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            opens=event.checkin_opens_at,
            closes=event.checkin_closes_at,
        )
        event.save()
        audit_record(
            actor=by,
            action="checkin.event_updated",
            target=event,
            data={
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in changes.items()
                if v is not None
            },
        )
    return event


def checkin_list_create(
    *,
    event: Event,
    name: str,
    include_volunteers: bool = True,
    include_attendees: bool = True,
    shift_ids: Sequence[int] = (),
    allow_multiple_entries: bool = False,
    allow_entry_after_exit: bool = True,
    by: Any = None,
) -> CheckinList:
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationFailed(
            errors=[field_error("name", "required", T("此项必填。", "This field is required."))]
        )
    linked = set(event.shifts.values_list("pk", flat=True))
    stray = [sid for sid in shift_ids if sid not in linked]
    if stray:
        raise ValidationFailed(
            errors=[
                field_error(
                    "shift_ids",
                    "not_linked",
                    T("班次未关联到该活动。", "The shift is not linked to the event."),
                    ids=stray,
                )
            ]
        )
    with transaction.atomic():
        if CheckinList.objects.filter(event=event, name=name).exists():
            raise ValidationFailed(
                errors=[field_error("name", "duplicate", T("名称已存在。", "This name is taken."))]
            )
        lst = CheckinList.objects.create(
            event=event,
            name=name,
            include_volunteers=include_volunteers,
            include_attendees=include_attendees,
            allow_multiple_entries=allow_multiple_entries,
            allow_entry_after_exit=allow_entry_after_exit,
        )
        if shift_ids:
            lst.shifts.set(shift_ids)
        # Passes already inside somewhere count as checked in on the new list only once they enter it.
        audit_record(
            actor=by, action="checkin.list_created", target=lst, data={"event": event.pk, "name": name}
        )
    return lst


def event_staff_grant(*, event: Event, user: Any, role: str, by: Any = None) -> Any:
    """Make ``user`` a scanner or coordinator of this event."""
    from backend.accounts.services import grant_role

    if role not in (Role.SCANNER, Role.COORDINATOR):
        raise ValidationFailed(
            errors=[field_error("role", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))]
        )
    return grant_role(user=user, role=role, scope_type=ScopeType.EVENT, scope_id=str(event.pk), by=by)


# --- passes ------------------------------------------------------------------------------------------


def _sign_secret(*, event: Event) -> tuple[str, str]:
    from backend.core import keys

    token_id = new_token_id()
    issued = timezone.localdate()
    expires = max(
        timezone.localdate(event.ends_at) + timedelta(days=conf.pass_valid_days_after_event()), issued
    )
    secret = keys.token_sign(purpose="pass", token_id=token_id, issued=issued, expires=expires)
    return token_id.hex(), secret


def pass_issue(
    *,
    event: Event,
    kind: str,
    holder_name: str,
    holder: Any = None,
    signup: Any = None,
    shift: Any = None,
    by: Any = None,
) -> Pass:
    holder_name = (holder_name or "").strip()[:50]
    if not holder_name:
        raise ValidationFailed(
            errors=[field_error("holder_name", "required", T("此项必填。", "This field is required."))]
        )
    token_id, secret = _sign_secret(event=event)
    with transaction.atomic():
        pass_obj = Pass.objects.create(
            event=event,
            kind=kind,
            holder=holder,
            holder_name=holder_name,
            signup=signup,
            shift=shift,
            token_id=token_id,
            secret=secret,
            created_by=by,
        )
        audit_record(
            actor=by,
            action="checkin.pass_issued",
            target=pass_obj,
            data={"event": event.pk, "kind": kind, "signup": getattr(signup, "pk", None)},
        )
        _notify_holder(pass_obj=pass_obj, event=event, kind="checkin.pass_issued")
    return pass_obj


def _notify_holder(*, pass_obj: Pass, event: Event, kind: str) -> None:
    if pass_obj.holder_id is None:
        return
    from backend.notifications.services import notify

    notify(
        user=pass_obj.holder_id,
        kind=kind,
        params={
            "event": event.title,
            "starts_at": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M"),
        },
        target=pass_obj,
    )


def pass_add_attendee(*, event: Event, holder_name: str, holder: Any = None, by: Any = None) -> Pass:
    return pass_issue(event=event, kind=Pass.Kind.ATTENDEE, holder_name=holder_name, holder=holder, by=by)


def _revoke_secret(*, pass_obj: Pass, reason: str) -> None:
    RevokedSecret.objects.create(
        event_id=pass_obj.event_id, pass_obj=pass_obj, token_id=pass_obj.token_id, reason=reason
    )


def pass_void(*, pass_obj: Pass, by: Any = None, reason: str = "") -> Pass:
    """Void a pass: its secret goes on the event's revoked list. Idempotent."""
    with transaction.atomic():
        pass_obj = Pass.objects.select_for_update().select_related("event").get(pk=pass_obj.pk)
        if pass_obj.status == Pass.Status.VOID:
            return pass_obj
        pass_obj.status = Pass.Status.VOID
        pass_obj.voided_at = timezone.now()
        pass_obj.save(update_fields=["status", "voided_at"])
        _revoke_secret(pass_obj=pass_obj, reason="void")
        audit_record(actor=by, action="checkin.pass_voided", target=pass_obj, reason=reason)
        if reason != "signup_changed":  # the volunteers domain tells the volunteer about the sign-up
            _notify_holder(pass_obj=pass_obj, event=pass_obj.event, kind="checkin.pass_voided")
    return pass_obj


def pass_reissue(*, pass_obj: Pass, by: Any = None) -> Pass:
    """A new secret for the same pass (a lost or photographed QR); the old one is revoked."""
    with transaction.atomic():
        pass_obj = Pass.objects.select_for_update().select_related("event").get(pk=pass_obj.pk)
        if pass_obj.status == Pass.Status.VOID:
            raise PassVoided()
        _revoke_secret(pass_obj=pass_obj, reason="reissue")
        pass_obj.token_id, pass_obj.secret = _sign_secret(event=pass_obj.event)
        pass_obj.save(update_fields=["token_id", "secret"])
        audit_record(actor=by, action="checkin.pass_reissued", target=pass_obj)
        _notify_holder(pass_obj=pass_obj, event=pass_obj.event, kind="checkin.pass_reissued")
    return pass_obj


def pass_block(*, pass_obj: Pass, blocked: bool, by: Any = None, reason: str = "") -> Pass:
    with transaction.atomic():
        updated = Pass.objects.filter(pk=pass_obj.pk).exclude(blocked=blocked).update(blocked=blocked)
        pass_obj.blocked = blocked
        if updated:
            audit_record(
                actor=by,
                action="checkin.pass_blocked" if blocked else "checkin.pass_unblocked",
                target=pass_obj,
                reason=reason,
            )
    return pass_obj


def _volunteer_name(signup: Any) -> str:
    profile = (
        getattr(signup.user, "volunteer_profile", None) if hasattr(signup.user, "volunteer_profile") else None
    )
    return (getattr(profile, "real_name", "") or signup.user.display_name or "志愿者").strip()


def signup_passes_sync(*, signup: Any, by: Any = None) -> list[Pass]:
    """Passes follow sign-ups: a confirmed sign-up of a shift linked to an event has one valid
    pass for that event; any other state voids it. Called inside the volunteers' transaction."""
    events = list(Event.objects.filter(shifts=signup.shift_id).order_by("id"))
    live = {p.event_id: p for p in Pass.objects.filter(signup_id=signup.pk, status=Pass.Status.VALID)}
    out = []
    if signup.holds_pass:
        for event in events:
            if event.pk in live:
                out.append(live[event.pk])
            else:
                out.append(
                    pass_issue(
                        event=event,
                        kind=Pass.Kind.VOLUNTEER,
                        holder_name=_volunteer_name(signup),
                        holder=signup.user,
                        signup=signup,
                        shift=signup.shift,
                        by=by,
                    )
                )
        stale = [p for eid, p in live.items() if eid not in {e.pk for e in events}]
    else:
        stale = list(live.values())
    for pass_obj in stale:
        pass_void(pass_obj=pass_obj, by=by, reason="signup_changed")
    return out


def event_shifts_link(*, event: Event, shifts: Iterable[Any], by: Any = None) -> list[Pass]:
    """Link shifts of the event's organisation; every confirmed sign-up gets its pass."""
    from backend.checkin.errors import ShiftNotOfOrganisation
    from backend.volunteers.models import Signup

    shifts = list(shifts)
    for shift in shifts:
        if shift.activity.organisation_id != event.organisation_id:
            raise ShiftNotOfOrganisation(shift_id=shift.pk)
    issued: list[Pass] = []
    with transaction.atomic():
        event.shifts.add(*shifts)
        signups = Signup.objects.filter(
            shift__in=shifts, status__in=Signup.CONFIRMED_STATUSES
        ).select_related("shift", "user", "user__volunteer_profile")
        for signup in signups:
            issued.extend(signup_passes_sync(signup=signup, by=by))
        audit_record(
            actor=by, action="checkin.shifts_linked", target=event, data={"shifts": [s.pk for s in shifts]}
        )
    return issued


# --- redeem ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeem:
    """One parsed redeem message (websocket frame, HTTP fallback item or offline queue item)."""

    secret: str
    nonce: str
    kind: str
    scanned_at: datetime
    list_id: int | None = None


@dataclass
class RedeemResult:
    row: Checkin
    replayed: bool = False

    def message(self) -> dict[str, Any]:
        row = self.row
        pass_obj = row.pass_obj
        out: dict[str, Any] = {
            "type": "result",
            "nonce": row.nonce,
            "status": row.status,
            "kind": row.kind,
            "pass": None
            if pass_obj is None
            else {"name": mask_name(pass_obj.holder_name), "kind": pass_obj.kind},
            "checked_in_at": _iso(row.entry_at),
            "list": row.list_id,
            "seq": row.seq,
            "late": row.late,
        }
        if row.status == Checkin.Status.ERROR:
            out["reason"] = row.reason
        if self.replayed:
            out["replayed"] = True
        return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def redeem_parse(content: dict[str, Any]) -> Redeem:
    """Validate one redeem message; raises ``InvalidRedeem`` (422, ``invalid_message``) with field errors."""
    errors = []
    secret = content.get("secret")
    nonce = content.get("nonce")
    kind = content.get("kind", Kind.ENTRY)
    list_id = content.get("list")
    scanned_raw = content.get("scanned_at")
    if not isinstance(secret, str) or not 1 <= len(secret) <= 512:
        errors.append(field_error("secret", "invalid", T("格式不正确。", "Invalid value.")))
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= NONCE_MAX:
        errors.append(
            field_error("nonce", "invalid", T("须为 8 至 64 个字符。", "Must be 8 to 64 characters."))
        )
    if kind not in (Kind.ENTRY, Kind.EXIT):
        errors.append(field_error("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice.")))
    if list_id is not None and (isinstance(list_id, bool) or not isinstance(list_id, int) or list_id <= 0):
        errors.append(field_error("list", "invalid", T("格式不正确。", "Invalid value.")))
    scanned_at = _parse_time(scanned_raw) if scanned_raw is not None else timezone.now()
    if scanned_at is None:
        errors.append(
            field_error("scanned_at", "invalid", T("须为 ISO 8601 时间。", "Must be an ISO 8601 time."))
        )
    if errors:
        raise InvalidRedeem(
            errors=errors, nonce=nonce if isinstance(nonce, str) and len(nonce) <= NONCE_MAX else None
        )
    return Redeem(secret=secret, nonce=nonce, kind=kind, scanned_at=scanned_at, list_id=list_id)  # type: ignore[arg-type]


def _on_list(pass_obj: Pass, lst: CheckinList, shift_ids: set[int]) -> bool:
    if pass_obj.kind == Pass.Kind.VOLUNTEER:
        return lst.include_volunteers and (not shift_ids or pass_obj.shift_id in shift_ids)
    return lst.include_attendees


def _verify(secret: str) -> tuple[str | None, date | None]:
    """(token id hex, last valid day) of a genuine pass secret, or (None, None): no database access."""
    from backend.core import keys

    try:
        # Expiry is judged against the scan time below (an offline scan uploaded late still counts).
        payload = keys.token_verify(purpose="pass", token=secret.strip(), check_expiry=False)
    except (TokenError, ValueError):
        return None, None
    return payload.token_id.hex(), payload.expires_day


def checkin_redeem(
    *,
    event_id: int,
    redeem: Redeem,
    scanner: Any = None,
    device: str = "",
    source: str = Checkin.Source.SOCKET,
    received_at: datetime | None = None,
) -> RedeemResult:
    """Decide and record one scan. Refused scans are recorded too; a known nonce replays."""
    token_hex, expires_day = _verify(redeem.secret)  # the signature before any query
    received = received_at or timezone.now()
    effective = min(redeem.scanned_at, received)  # a scanner clock running ahead is not believed
    late = (received - redeem.scanned_at).total_seconds() > conf.late_after_seconds()
    try:
        with transaction.atomic():
            return _redeem_locked(
                event_id=event_id,
                redeem=redeem,
                token_hex=token_hex,
                expires_day=expires_day,
                received=received,
                effective=effective,
                late=late,
                scanner=scanner,
                device=device[:DEVICE_MAX],
                source=source,
            )
    except IntegrityError:
        # The same nonce committed by a concurrent request between our check and our insert.
        existing = _existing(event_id, redeem.nonce)
        if existing is None:
            raise
        return RedeemResult(row=existing, replayed=True)


def _existing(event_id: int, nonce: str) -> Checkin | None:
    return Checkin.objects.select_related("pass_obj").filter(event_id=event_id, nonce=nonce).first()


def _redeem_locked(
    *,
    event_id: int,
    redeem: Redeem,
    token_hex: str | None,
    expires_day: date | None,
    received: datetime,
    effective: datetime,
    late: bool,
    scanner: Any,
    device: str,
    source: str,
) -> RedeemResult:
    existing = _existing(event_id, redeem.nonce)
    if existing is not None:
        return RedeemResult(row=existing, replayed=True)
    event = Event.objects.get(pk=event_id)
    reason = ""
    pass_obj: Pass | None = None
    if token_hex is None:
        reason = Reason.INVALID
    else:
        pass_obj = Pass.objects.select_for_update().filter(event_id=event_id, token_id=token_hex).first()
        if pass_obj is None:
            revoked = (
                RevokedSecret.objects.select_related("pass_obj")
                .filter(event_id=event_id, token_id=token_hex)
                .first()
            )
            if revoked is None:
                reason = Reason.INVALID
            else:
                reason, pass_obj = Reason.REVOKED, revoked.pass_obj
        elif pass_obj.status == Pass.Status.VOID:
            reason = Reason.REVOKED

    lists = list(CheckinList.objects.filter(event_id=event_id).prefetch_related("shifts"))
    lst: CheckinList | None = None
    if redeem.list_id is not None:
        lst = next((item for item in lists if item.pk == redeem.list_id), None)
        if lst is None:
            raise ListNotOfEvent(list=redeem.list_id, nonce=redeem.nonce)
    if not reason and pass_obj is not None:
        eligible = [item for item in lists if _on_list(pass_obj, item, {s.pk for s in item.shifts.all()})]
        if lst is not None:
            if lst not in eligible:
                reason = Reason.NOT_ON_LIST
        elif len(eligible) == 1:
            lst = eligible[0]
        else:
            reason = Reason.AMBIGUOUS if eligible else Reason.NOT_ON_LIST

    presence: Presence | None = None
    entry_at: datetime | None = None
    if not reason and pass_obj is not None and lst is not None:
        presence = Presence.objects.select_related("last_entry").filter(pass_obj=pass_obj, list=lst).first()
        if redeem.kind == Kind.ENTRY:
            if pass_obj.blocked:
                reason = Reason.BLOCKED
            elif not event.checkin_opens_at <= effective <= event.checkin_closes_at or (
                expires_day is not None and timezone.localdate(effective) > expires_day
            ):
                reason = Reason.INVALID_TIME
            elif (
                presence is not None
                and presence.entries
                and not lst.allow_multiple_entries
                and (presence.inside or not lst.allow_entry_after_exit)
            ):
                reason = Reason.ALREADY_REDEEMED
                entry_at = presence.last_entry.scanned_at if presence.last_entry else None
        elif presence is not None and presence.inside and presence.last_entry is not None:
            entry_at = presence.last_entry.scanned_at

    ok = not reason
    # Counter deltas: event-wide (distinct passes) and for the list.
    ev_checked = ev_inside = li_checked = li_inside = 0
    was_inside = bool(presence and presence.inside)
    if ok and pass_obj is not None:
        if redeem.kind == Kind.ENTRY:
            ev_checked = int(pass_obj.first_entry_at is None)
            li_checked = int(presence is None or presence.entries == 0)
            if not was_inside:
                li_inside = 1
                ev_inside = int(pass_obj.inside_lists == 0)
        elif was_inside:
            li_inside = -1
            ev_inside = -int(pass_obj.inside_lists == 1)

    EventSequence.objects.filter(pk=event_id).update(
        last_seq=F("last_seq") + 1, checked_in=F("checked_in") + ev_checked, inside=F("inside") + ev_inside
    )
    seq_row = EventSequence.objects.values("last_seq", "checked_in", "inside").get(pk=event_id)
    counts: dict[str, Any] = {"checked_in": seq_row["checked_in"], "inside": seq_row["inside"]}
    if lst is not None:
        if li_checked or li_inside:
            CheckinList.objects.filter(pk=lst.pk).update(
                checked_in=F("checked_in") + li_checked, inside=F("inside") + li_inside
            )
            lst.refresh_from_db(fields=["checked_in", "inside"])
        counts["list"] = {"id": lst.pk, "checked_in": lst.checked_in, "inside": lst.inside}

    if ok and redeem.kind == Kind.ENTRY:
        entry_at = effective
    row = Checkin.objects.create(
        event_id=event_id,
        seq=seq_row["last_seq"],
        pass_obj=pass_obj,
        list=lst,
        kind=redeem.kind,
        status=Checkin.Status.OK if ok else Checkin.Status.ERROR,
        reason=reason,
        scanned_at=redeem.scanned_at,
        received_at=received,
        late=late,
        nonce=redeem.nonce,
        device=device,
        source=source,
        scanner=scanner if getattr(scanner, "is_authenticated", False) else None,
        entry_at=entry_at,
        counts=counts,
    )
    if ok and pass_obj is not None and lst is not None:
        _apply_presence(
            pass_obj=pass_obj, lst=lst, presence=presence, row=row, effective=effective, was_inside=was_inside
        )
    _broadcast(row)
    return RedeemResult(row=row)


def _apply_presence(
    *,
    pass_obj: Pass,
    lst: CheckinList,
    presence: Presence | None,
    row: Checkin,
    effective: datetime,
    was_inside: bool,
) -> None:
    if presence is None:
        presence = Presence(pass_obj=pass_obj, list=lst)
    pass_fields: list[str] = []
    if row.kind == Kind.ENTRY:
        presence.entries += 1
        presence.inside = True
        presence.last_entry = row
        if pass_obj.first_entry_at is None:
            pass_obj.first_entry_at = effective
            pass_fields.append("first_entry_at")
        if not was_inside:
            if pass_obj.inside_lists == 0:
                pass_obj.inside_since, pass_obj.stay_seq = effective, row.seq
                pass_fields += ["inside_since", "stay_seq"]
            pass_obj.inside_lists += 1
            pass_fields.append("inside_lists")
    else:
        if not was_inside:
            return  # an exit without an entry is recorded (pretix accepts every exit) and changes nothing
        presence.inside = False
        presence.last_exit_at = effective
        pass_obj.inside_lists = max(0, pass_obj.inside_lists - 1)
        pass_fields.append("inside_lists")
        if pass_obj.inside_lists == 0:
            _stay_ended(pass_obj=pass_obj, checked_out_at=effective, recorder=row.scanner)
            pass_obj.inside_since, pass_obj.stay_seq = None, None
            pass_fields += ["inside_since", "stay_seq"]
    presence.save()
    if pass_fields:
        pass_obj.save(update_fields=sorted(set(pass_fields)))


def _stay_ended(*, pass_obj: Pass, checked_out_at: datetime, recorder: Any) -> None:
    """A volunteer's stay (first entry to last exit) becomes a service record."""
    if pass_obj.signup_id is None or pass_obj.inside_since is None:
        return
    from backend.volunteers.models import ServiceRecord
    from backend.volunteers.services import attendance_record

    try:
        with transaction.atomic():  # a refused record must not undo the scan
            attendance_record(
                signup=pass_obj.signup,
                checked_in_at=pass_obj.inside_since,
                checked_out_at=checked_out_at,
                recorder=recorder,
                external_ref=f"checkin:{pass_obj.event_id}:{pass_obj.pk}:{pass_obj.stay_seq}",
                source=ServiceRecord.Source.CHECKIN,
            )
    except DomainError as error:
        log.warning("no service record for pass %s: %s", pass_obj.pk, error.error_code)


def _broadcast(row: Checkin) -> None:
    from realtime.events import group_send_after_commit

    text = json.dumps(checkin_feed_message(row), ensure_ascii=False, separators=(",", ":"))
    group_send_after_commit(
        group_name(row.event_id), {"type": "checkin.recorded", "seq": row.seq, "text": text}
    )


def checkin_upload(
    *,
    event_id: int,
    items: Sequence[dict[str, Any]],
    scanner: Any = None,
    device: str = "",
) -> list[dict[str, Any]]:
    """A queue of redeems from one scanner (offline upload or HTTP fallback): processed in scan
    order, each in its own transaction, idempotent by nonce. Returns one result per item, in the
    order processed; a malformed item gets an ``error`` entry and does not stop the others."""
    if len(items) > conf.upload_max_items():
        raise UploadTooLarge(max=conf.upload_max_items(), got=len(items))
    received = timezone.now()
    parsed: list[tuple[datetime, int, Redeem | None, dict[str, Any]]] = []
    for index, item in enumerate(items):
        try:
            redeem = redeem_parse(item if isinstance(item, dict) else {})
        except InvalidRedeem as error:
            parsed.append((received, index, None, {"type": "error", "index": index, **error.body("en")}))
            continue
        parsed.append((redeem.scanned_at, index, redeem, {}))
    parsed.sort(key=lambda entry: (entry[0], entry[1]))
    results = []
    for _, index, redeem, error in parsed:
        if redeem is None:
            results.append(error)
            continue
        try:
            result = checkin_redeem(
                event_id=event_id,
                redeem=redeem,
                scanner=scanner,
                device=device,
                source=Checkin.Source.HTTP,
                received_at=received,
            )
        except ListNotOfEvent as exc:
            results.append({"type": "error", "index": index, "nonce": redeem.nonce, **exc.body("en")})
            continue
        results.append({**result.message(), "index": index})
    return results


# --- end of event --------------------------------------------------------------------------------


def event_auto_checkout(*, event: Event, now: datetime | None = None) -> int:
    """Check out everybody still inside once the event has ended (exit rows at the event's end,
    source ``auto``), so volunteers' stays become service records. Idempotent: an event is closed once."""
    now = now or timezone.now()
    if event.ends_at > now or event.closed_at is not None:
        return 0
    done = 0
    presences = list(
        Presence.objects.filter(list__event=event, inside=True)
        .select_related("pass_obj")
        .order_by("pass_obj_id", "list_id")
    )
    for presence in presences:
        result = checkin_redeem(
            event_id=event.pk,
            redeem=Redeem(
                secret=presence.pass_obj.secret,
                nonce=f"auto-{event.pk}-{presence.pk}-{presence.entries}",
                kind=Kind.EXIT,
                scanned_at=event.ends_at,
                list_id=presence.list_id,
            ),
            device="auto-checkout",
            source=Checkin.Source.AUTO,
            received_at=now,
        )
        done += int(not result.replayed and result.row.status == Checkin.Status.OK)
    with transaction.atomic():
        if Event.objects.filter(pk=event.pk, closed_at__isnull=True).update(closed_at=now):
            audit_record(
                actor=None, action="checkin.event_closed", target=event, data={"auto_checked_out": done}
            )
    return done


def signup_changed_listener(signup: Any) -> None:
    """Registered with ``backend.volunteers.hooks``: runs inside the volunteers' transaction."""
    signup_passes_sync(signup=signup)
