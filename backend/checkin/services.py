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

import dataclasses
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, transaction
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
from backend.runtime.broadcast import publish_after_commit

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


# The redeem runs on every scan, so its statements are written once, in SQL, and executed raw:
# the ORM spends several times longer compiling a query than SQLite or PostgreSQL spend answering
# it. One statement locks the pass (and reads the event's window and whether the nonce is known),
# one reads the lists with the pass's eligibility and presence on each, then the writes. Lists are
# read on every scan rather than cached, so a rule changed anywhere (admin, shell, another
# process) applies to the next scan.

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
_CHECKIN_COLUMNS = (
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
class _Statements:
    lock_pass: str
    lists: str
    nonce: str
    next_seq: str
    list_update: str
    list_read: str
    insert_checkin: str
    insert_presence: str
    enter_presence: str
    exit_presence: str
    update_pass: str
    pg_seq: str = ""
    pg_list: str = ""
    pg_checkin: str = ""
    pg_checkin_list: str = ""
    pg_presence_insert: str = ""
    pg_presence_enter: str = ""
    pg_presence_exit: str = ""
    pg_pass: str = ""
    pg_final: str = ""
    pg_final_list: str = ""


_statements: dict[str, _Statements] = {}


def _sql(connection: Any) -> _Statements:
    found = _statements.get(connection.vendor)
    if found is not None:
        return found
    q = connection.ops.quote_name
    passes, event, lists = q(Pass._meta.db_table), q(Event._meta.db_table), q(CheckinList._meta.db_table)
    seq, checkins, presence = (
        q(EventSequence._meta.db_table),
        q(Checkin._meta.db_table),
        q(Presence._meta.db_table),
    )
    list_shifts = q(CheckinList.shifts.through._meta.db_table)
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    as_json = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    pass_columns = ", ".join(f"p.{q(name)}" for name in _PASS_FIELDS)
    found = _Statements(
        # Locking the pass serialises scans of one pass (two scanners admit it once); on SQLite
        # the transaction's write lock (BEGIN IMMEDIATE) already serialises every writer.
        lock_pass=(
            f"SELECT {pass_columns}, e.checkin_opens_at, e.checkin_closes_at, "
            f"(SELECT c.id FROM {checkins} c WHERE c.event_id = p.event_id AND c.nonce = %s) "
            f"FROM {passes} p INNER JOIN {event} e ON e.id = p.event_id "
            f"WHERE p.event_id = %s AND p.token_id = %s{lock}"
        ),
        # Run after the lock, so a concurrent scan of the same pass is seen once it committed.
        lists=(
            "SELECT l.id, l.include_volunteers, l.include_attendees, l.allow_multiple_entries, "
            "l.allow_entry_after_exit, "
            f"EXISTS(SELECT 1 FROM {list_shifts} s WHERE s.checkinlist_id = l.id), "
            f"EXISTS(SELECT 1 FROM {list_shifts} s WHERE s.checkinlist_id = l.id AND s.shift_id = %s), "
            "pr.id, pr.inside, pr.entries, le.scanned_at "
            f"FROM {lists} l LEFT JOIN {presence} pr ON pr.list_id = l.id AND pr.pass_id = %s "
            f"LEFT JOIN {checkins} le ON le.id = pr.last_entry_id "
            "WHERE l.event_id = %s ORDER BY l.id"
        ),
        nonce=f"SELECT id FROM {checkins} WHERE event_id = %s AND nonce = %s",
        next_seq=(
            f"UPDATE {seq} SET last_seq = last_seq + 1, checked_in = checked_in + %s, "
            "inside = inside + %s WHERE event_id = %s RETURNING last_seq, checked_in, inside"
        ),
        list_update=(
            f"UPDATE {lists} SET checked_in = checked_in + %s, inside = inside + %s "
            "WHERE id = %s RETURNING checked_in, inside"
        ),
        list_read=f"SELECT checked_in, inside FROM {lists} WHERE id = %s",
        insert_checkin=(
            f"INSERT INTO {checkins} ({', '.join(q(c) for c in _CHECKIN_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * (len(_CHECKIN_COLUMNS) - 1))}, {as_json}) RETURNING id"
        ),
        insert_presence=(
            f"INSERT INTO {presence} (pass_id, list_id, inside, entries, last_entry_id, last_exit_at) "
            "VALUES (%s, %s, %s, %s, %s, NULL)"
        ),
        enter_presence=(
            f"UPDATE {presence} SET inside = %s, entries = entries + 1, last_entry_id = %s WHERE id = %s"
        ),
        exit_presence=f"UPDATE {presence} SET inside = %s, last_exit_at = %s WHERE id = %s",
        update_pass=(
            f"UPDATE {passes} SET first_entry_at = %s, inside_lists = %s, inside_since = %s, "
            "stay_seq = %s WHERE id = %s"
        ),
    )
    if connection.vendor == "postgresql":
        columns = ", ".join(q(c) for c in _CHECKIN_COLUMNS)
        # %s for every column but seq (from the sequence update) and counts (built here).
        row = "%s, s.last_seq, " + ", ".join(["%s"] * (len(_CHECKIN_COLUMNS) - 3))
        counts = "jsonb_build_object('checked_in', s.checked_in, 'inside', s.inside)"
        list_counts = "jsonb_build_object('id', %s::bigint, 'checked_in', l.checked_in, 'inside', l.inside)"
        found = dataclasses.replace(
            found,
            pg_seq=(
                f"s AS (UPDATE {seq} SET last_seq = last_seq + 1, checked_in = checked_in + %s, "
                "inside = inside + %s WHERE event_id = %s RETURNING last_seq, checked_in, inside)"
            ),
            # Updated even by zero: the update waits for and reads the latest committed counts.
            pg_list=(
                f"l AS (UPDATE {lists} SET checked_in = checked_in + %s, inside = inside + %s "
                "WHERE id = %s RETURNING checked_in, inside)"
            ),
            pg_checkin=(
                f"c AS (INSERT INTO {checkins} ({columns}) SELECT {row}, {counts} FROM s RETURNING id, seq)"
            ),
            pg_checkin_list=(
                f"c AS (INSERT INTO {checkins} ({columns}) SELECT {row}, "
                f"{counts} || jsonb_build_object('list', {list_counts}) FROM s, l RETURNING id, seq)"
            ),
            pg_presence_insert=(
                f"pr AS (INSERT INTO {presence} (pass_id, list_id, inside, entries, last_entry_id) "
                "SELECT %s, %s, TRUE, 1, c.id FROM c)"
            ),
            pg_presence_enter=(
                f"pr AS (UPDATE {presence} SET inside = TRUE, entries = entries + 1, "
                "last_entry_id = (SELECT id FROM c) WHERE id = %s)"
            ),
            pg_presence_exit=(
                f"pr AS (UPDATE {presence} SET inside = FALSE, last_exit_at = %s WHERE id = %s)"
            ),
            pg_pass=(
                f"pu AS (UPDATE {passes} SET first_entry_at = %s, inside_lists = %s, inside_since = %s, "
                "stay_seq = CASE WHEN %s THEN (SELECT seq FROM c) ELSE %s::bigint END WHERE id = %s)"
            ),
            pg_final="SELECT c.id, c.seq, s.checked_in, s.inside FROM c, s",
            pg_final_list="SELECT c.id, c.seq, s.checked_in, s.inside, l.checked_in, l.inside FROM c, s, l",
        )
    _statements[connection.vendor] = found
    return found


def _aware(value: Any) -> datetime | None:
    """A datetime read raw: SQLite gives naive UTC (the ORM would convert it), PostgreSQL aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


@dataclass
class _ListState:
    """One check-in list as the redeem sees it: its rules, and this pass's presence on it."""

    id: int
    include_volunteers: bool
    include_attendees: bool
    allow_multiple_entries: bool
    allow_entry_after_exit: bool
    has_shifts: bool
    pass_shift_on: bool
    presence_id: int | None
    inside: bool
    entries: int
    last_entry_at: datetime | None

    def admits(self, pass_obj: Pass) -> bool:
        if pass_obj.kind == Pass.Kind.VOLUNTEER:
            return self.include_volunteers and (not self.has_shifts or self.pass_shift_on)
        return self.include_attendees


def _read_lists(cursor: Any, sql: _Statements, *, event_id: int, pass_obj: Pass | None) -> list[_ListState]:
    cursor.execute(
        sql.lists,
        [
            pass_obj.shift_id if pass_obj is not None else None,
            pass_obj.pk if pass_obj is not None else None,
            event_id,
        ],
    )
    return [
        _ListState(
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
            last_entry_at=_aware(r[10]),
        )
        for r in cursor.fetchall()
    ]


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
    connection = connections[Checkin.objects.db]
    sql = _sql(connection)
    reason = ""
    pass_obj: Pass | None = None
    window: tuple[datetime, datetime] | None = None
    with connection.cursor() as cursor:
        found = None
        if token_hex is not None:
            cursor.execute(sql.lock_pass, [redeem.nonce, event_id, token_hex])
            found = cursor.fetchone()
        if found is not None:
            if found[-1] is not None:
                existing = _existing(event_id, redeem.nonce)
                if existing is not None:
                    return RedeemResult(row=existing, replayed=True)
            values = list(found[: len(_PASS_FIELDS)])
            for name in ("first_entry_at", "inside_since"):
                index = _PASS_FIELDS.index(name)
                values[index] = _aware(values[index])
            values[_PASS_FIELDS.index("blocked")] = bool(values[_PASS_FIELDS.index("blocked")])
            pass_obj = Pass.from_db(connection.alias, _PASS_FIELDS, values)
            window = (_aware(found[-3]), _aware(found[-2]))  # type: ignore[assignment]
            if pass_obj.status == Pass.Status.VOID:
                reason = Reason.REVOKED
        else:
            existing = _existing(event_id, redeem.nonce)
            if existing is not None:
                return RedeemResult(row=existing, replayed=True)
            revoked = None
            if token_hex is not None:
                revoked = (
                    RevokedSecret.objects.select_related("pass_obj")
                    .filter(event_id=event_id, token_id=token_hex)
                    .first()
                )
            if revoked is None:
                reason = Reason.INVALID
            else:
                reason, pass_obj = Reason.REVOKED, revoked.pass_obj

        lists = _read_lists(cursor, sql, event_id=event_id, pass_obj=None if reason else pass_obj)
        lst: _ListState | None = None
        if redeem.list_id is not None:
            lst = next((item for item in lists if item.id == redeem.list_id), None)
            if lst is None:
                raise ListNotOfEvent(list=redeem.list_id, nonce=redeem.nonce)
        if not reason and pass_obj is not None:
            eligible = [item for item in lists if item.admits(pass_obj)]
            if lst is not None:
                if lst not in eligible:
                    reason = Reason.NOT_ON_LIST
            elif len(eligible) == 1:
                lst = eligible[0]
            else:
                reason = Reason.AMBIGUOUS if eligible else Reason.NOT_ON_LIST

        entry_at: datetime | None = None
        present = lst is not None and lst.presence_id is not None
        if not reason and pass_obj is not None and lst is not None and window is not None:
            if redeem.kind == Kind.ENTRY:
                if pass_obj.blocked:
                    reason = Reason.BLOCKED
                elif not window[0] <= effective <= window[1] or (
                    expires_day is not None and timezone.localdate(effective) > expires_day
                ):
                    reason = Reason.INVALID_TIME
                elif (
                    present
                    and lst.entries
                    and not lst.allow_multiple_entries
                    and (lst.inside or not lst.allow_entry_after_exit)
                ):
                    reason = Reason.ALREADY_REDEEMED
                    entry_at = lst.last_entry_at
            elif present and lst.inside:
                entry_at = lst.last_entry_at

        ok = not reason
        # Counter deltas: event-wide (distinct passes) and for the list.
        ev_checked = ev_inside = li_checked = li_inside = 0
        was_inside = bool(present and lst is not None and lst.inside)
        if ok and pass_obj is not None and lst is not None:
            if redeem.kind == Kind.ENTRY:
                ev_checked = int(pass_obj.first_entry_at is None)
                li_checked = int(not present or lst.entries == 0)
                if not was_inside:
                    li_inside = 1
                    ev_inside = int(pass_obj.inside_lists == 0)
            elif was_inside:
                li_inside = -1
                ev_inside = -int(pass_obj.inside_lists == 1)

        if ok and redeem.kind == Kind.ENTRY:
            entry_at = effective
        scanner_id = scanner.pk if getattr(scanner, "is_authenticated", False) else None
        stay = None
        if ok and pass_obj is not None and lst is not None:
            stay = _stay_change(
                pass_obj=pass_obj, lst=lst, kind=redeem.kind, effective=effective, was_inside=was_inside
            )
            if stay is not None and stay.ended:
                _stay_ended(
                    pass_obj=pass_obj,
                    checked_out_at=effective,
                    recorder=scanner if scanner_id is not None else None,
                )
        status = Checkin.Status.OK if ok else Checkin.Status.ERROR
        row_values: dict[str, Any] = {
            "event_id": event_id,
            "pass_obj_id": pass_obj.pk if pass_obj is not None else None,
            "list_id": lst.id if lst is not None else None,
            "kind": redeem.kind,
            "status": status,
            "reason": reason,
            "scanned_at": redeem.scanned_at,
            "received_at": received,
            "late": late,
            "nonce": redeem.nonce,
            "device": device,
            "source": source,
            "scanner_id": scanner_id,
            "entry_at": entry_at,
        }
        write = _write_combined if connection.vendor == "postgresql" else _write_each
        row_id, seq, counts = write(
            cursor,
            sql,
            values=row_values,
            deltas=(ev_checked, ev_inside, li_checked, li_inside),
            stay=stay,
            pass_obj=pass_obj,
            presence_id=lst.presence_id if lst is not None else None,
        )
        if seq is None:
            raise Event.DoesNotExist(f"no event {event_id}")
        row = Checkin(id=row_id, seq=seq, counts=counts, **row_values)
        row._state.adding = False
        row._state.db = connection.alias
        if pass_obj is not None:
            if stay is not None:
                stay.apply(pass_obj, seq=seq)
            row.pass_obj = pass_obj
    _broadcast(row)
    return RedeemResult(row=row)


@dataclass
class _StayChange:
    """What an admitted scan changes on the presence and the pass (the pass row is locked)."""

    presence: str  # insert | enter | exit
    exit_at: datetime | None
    first_entry_at: datetime | None
    inside_lists: int
    inside_since: datetime | None
    new_stay: bool  # the pass's stay begins with this scan: its stay_seq is the scan's seq
    ended: bool  # the stay ends with this scan (a volunteer's becomes a service record)
    stay_seq: int | None

    def apply(self, pass_obj: Pass, *, seq: int) -> None:
        pass_obj.first_entry_at = self.first_entry_at
        pass_obj.inside_lists = self.inside_lists
        pass_obj.inside_since = self.inside_since
        pass_obj.stay_seq = seq if self.new_stay else self.stay_seq


def _stay_change(
    *, pass_obj: Pass, lst: _ListState, kind: str, effective: datetime, was_inside: bool
) -> _StayChange | None:
    if kind == Kind.ENTRY:
        new_stay = not was_inside and pass_obj.inside_lists == 0
        return _StayChange(
            presence="insert" if lst.presence_id is None else "enter",
            exit_at=None,
            first_entry_at=pass_obj.first_entry_at or effective,
            inside_lists=pass_obj.inside_lists + (0 if was_inside else 1),
            inside_since=effective if new_stay else pass_obj.inside_since,
            new_stay=new_stay,
            ended=False,
            stay_seq=pass_obj.stay_seq,
        )
    if not was_inside:
        return None  # an exit without an entry is recorded (pretix accepts every exit) and changes nothing
    inside_lists = max(0, pass_obj.inside_lists - 1)
    ended = inside_lists == 0
    return _StayChange(
        presence="exit",
        exit_at=effective,
        first_entry_at=pass_obj.first_entry_at,
        inside_lists=inside_lists,
        inside_since=None if ended else pass_obj.inside_since,
        new_stay=False,
        ended=ended,
        stay_seq=None if ended else pass_obj.stay_seq,
    )


def _checkin_params(values: dict[str, Any], adapt: Any) -> list[Any]:
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


def _counts(seq_row: Any, list_id: int | None, list_row: Any) -> dict[str, Any]:
    counts: dict[str, Any] = {"checked_in": seq_row[0], "inside": seq_row[1]}
    if list_id is not None:
        counts["list"] = {"id": list_id, "checked_in": list_row[0], "inside": list_row[1]}
    return counts


def _write_each(
    cursor: Any,
    sql: _Statements,
    *,
    values: dict[str, Any],
    deltas: tuple[int, int, int, int],
    stay: _StayChange | None,
    pass_obj: Pass | None,
    presence_id: int | None,
) -> tuple[int | None, int | None, dict[str, Any]]:
    """The writes one statement each (SQLite: in process, a statement costs microseconds)."""
    adapt = cursor.db.ops.adapt_datetimefield_value
    ev_checked, ev_inside, li_checked, li_inside = deltas
    cursor.execute(sql.next_seq, [ev_checked, ev_inside, values["event_id"]])
    seq_row = cursor.fetchone()
    if seq_row is None:
        return None, None, {}
    list_id, list_row = values["list_id"], None
    if list_id is not None:
        if li_checked or li_inside:
            cursor.execute(sql.list_update, [li_checked, li_inside, list_id])
        else:
            cursor.execute(sql.list_read, [list_id])
        list_row = cursor.fetchone()
    counts = _counts(seq_row[1:], list_id, list_row)
    params = _checkin_params(values, adapt)
    params.insert(1, seq_row[0])
    cursor.execute(sql.insert_checkin, [*params, json.dumps(counts, separators=(",", ":"))])
    row_id = cursor.fetchone()[0]
    if stay is not None and pass_obj is not None:
        if stay.presence == "insert":
            cursor.execute(sql.insert_presence, [pass_obj.pk, list_id, True, 1, row_id])
        elif stay.presence == "enter":
            cursor.execute(sql.enter_presence, [True, row_id, presence_id])
        else:
            cursor.execute(sql.exit_presence, [False, adapt(stay.exit_at), presence_id])
        cursor.execute(
            sql.update_pass,
            [
                adapt(stay.first_entry_at),
                stay.inside_lists,
                adapt(stay.inside_since),
                seq_row[0] if stay.new_stay else stay.stay_seq,
                pass_obj.pk,
            ],
        )
    return row_id, seq_row[0], counts


def _write_combined(
    cursor: Any,
    sql: _Statements,
    *,
    values: dict[str, Any],
    deltas: tuple[int, int, int, int],
    stay: _StayChange | None,
    pass_obj: Pass | None,
    presence_id: int | None,
) -> tuple[int | None, int | None, dict[str, Any]]:
    """The writes as one statement (PostgreSQL: data-modifying CTEs), so a scan is five round
    trips in all (begin, lock, lists, writes, commit) instead of nine."""
    adapt = cursor.db.ops.adapt_datetimefield_value
    ev_checked, ev_inside, li_checked, li_inside = deltas
    list_id = values["list_id"]
    parts = [sql.pg_seq]
    params: list[Any] = [ev_checked, ev_inside, values["event_id"]]
    if list_id is not None:
        parts.append(sql.pg_list)
        params += [li_checked, li_inside, list_id]
        parts.append(sql.pg_checkin_list)
    else:
        parts.append(sql.pg_checkin)
    params += _checkin_params(values, adapt)
    if list_id is not None:
        params.append(list_id)
    if stay is not None and pass_obj is not None:
        if stay.presence == "insert":
            parts.append(sql.pg_presence_insert)
            params += [pass_obj.pk, list_id]
        elif stay.presence == "enter":
            parts.append(sql.pg_presence_enter)
            params.append(presence_id)
        else:
            parts.append(sql.pg_presence_exit)
            params += [adapt(stay.exit_at), presence_id]
        parts.append(sql.pg_pass)
        params += [
            adapt(stay.first_entry_at),
            stay.inside_lists,
            adapt(stay.inside_since),
            stay.new_stay,
            stay.stay_seq,
            pass_obj.pk,
        ]
    final = sql.pg_final_list if list_id is not None else sql.pg_final
    cursor.execute("WITH " + ", ".join(parts) + " " + final, params)
    found = cursor.fetchone()
    if found is None:
        return None, None, {}
    row_id, seq, *rest = found
    return row_id, seq, _counts(rest[:2], list_id, rest[2:])


def _stay_ended(*, pass_obj: Pass, checked_out_at: datetime, recorder: Any) -> None:
    """A volunteer's stay (first entry to last exit) becomes a service record."""
    if pass_obj.signup_id is None or pass_obj.inside_since is None:
        return
    from backend.volunteers.models import ServiceRecord
    from backend.volunteers.services import attendance_record

    signup = pass_obj.signup
    if signup is None:
        return
    try:
        with transaction.atomic():  # a refused record must not undo the scan
            attendance_record(
                signup=signup,
                checked_in_at=pass_obj.inside_since,
                checked_out_at=checked_out_at,
                recorder=recorder,
                external_ref=f"checkin:{pass_obj.event_id}:{pass_obj.pk}:{pass_obj.stay_seq}",
                source=ServiceRecord.Source.CHECKIN,
            )
    except DomainError as error:
        log.warning("no service record for pass %s: %s", pass_obj.pk, error.error_code)


def _broadcast(row: Checkin) -> None:
    """After commit, hand the encoded feed message to the event's dashboards without waiting for
    delivery (``backend.runtime.broadcast``): a busy event loop must not hold up the next scan."""
    text = json.dumps(checkin_feed_message(row), ensure_ascii=False, separators=(",", ":"))
    publish_after_commit(group_name(row.event_id), {"type": "checkin.recorded", "seq": row.seq, "text": text})


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
    for _, index, item_redeem, failure in parsed:
        if item_redeem is None:
            results.append(failure)
            continue
        try:
            result = checkin_redeem(
                event_id=event_id,
                redeem=item_redeem,
                scanner=scanner,
                device=device,
                source=Checkin.Source.HTTP,
                received_at=received,
            )
        except ListNotOfEvent as exc:
            results.append({"type": "error", "index": index, "nonce": item_redeem.nonce, **exc.body("en")})
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
