"""Passes: issued to attendees by coordinators and to volunteers by their confirmed sign-ups;
voided, re-issued (a new secret, the old one revoked) and blocked. Holders are told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, IntegerField, Value
from django.utils import timezone

from backend.accounts.services import user_get_or_create
from backend.checkin import conf
from backend.checkin.errors import PassVoided
from backend.checkin.models import BundleChange, Event, EventSequence, Pass, RevokedSecret
from backend.checkin.selectors import passes_matching
from backend.checkin.services.changes import bundle_change_record
from backend.core import keys
from backend.core.audit import audit_record
from backend.core.db import PreparedValues
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.core.signed_tokens import new_token_id
from backend.notifications.services import notify


def _sign_secret(*, event: Event) -> tuple[str, str]:
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
        # Counter rows in one order everywhere (the event's, then the bundle's): no deadlock.
        _count_passes(event_id=event.pk, by=1)
        bundle_change_record(event_id=event.pk, kind=BundleChange.Kind.PASS_ADDED, pass_id=pass_obj.pk)
        audit_record(
            actor=by,
            action="checkin.pass_issued",
            target=pass_obj,
            data={"event": event.pk, "kind": kind, "signup": getattr(signup, "pk", None)},
        )
        _notify_holder(pass_obj=pass_obj, event=event, kind="checkin.pass_issued")
    return pass_obj


def _count_passes(*, event_id: int, by: int) -> None:
    """The event's count of valid passes, kept in the transaction that issues or voids one (so
    ``GET /events/{id}/stats`` never counts passes)."""
    EventSequence.objects.filter(pk=event_id).update(passes=F("passes") + by)


def _notify_holder(*, pass_obj: Pass, event: Event, kind: str) -> None:
    if pass_obj.holder_id is None:
        return
    notify(
        user=pass_obj.holder_id,
        kind=kind,
        params={
            "event": event.title,
            "starts_at": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M"),
        },
        target=pass_obj,
    )


def pass_add_attendee(
    *, event: Event, holder_name: str, holder: Any = None, holder_phone: str | None = None, by: Any = None
) -> Pass:
    """An attendee's pass. With ``holder_phone`` (and no ``holder``) the pass goes to the account
    of that mobile number, created if need be, so the attendee finds it under "my passes"."""
    if holder is None and holder_phone:
        holder = user_get_or_create(phone=holder_phone)
    return pass_issue(event=event, kind=Pass.Kind.ATTENDEE, holder_name=holder_name, holder=holder, by=by)


def _revoke_secret(*, pass_obj: Pass, reason: str) -> None:
    RevokedSecret.objects.create(
        event_id=pass_obj.event_id, pass_obj=pass_obj, token_id=pass_obj.token_id, reason=reason
    )
    bundle_change_record(
        event_id=pass_obj.event_id,
        kind=BundleChange.Kind.PASS_VOIDED if reason == "void" else BundleChange.Kind.PASS_REISSUED,
        pass_id=pass_obj.pk,
        token_id=pass_obj.token_id,
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
        _count_passes(event_id=pass_obj.event_id, by=-1)
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
            bundle_change_record(
                event_id=pass_obj.event_id,
                kind=BundleChange.Kind.PASS_BLOCKED if blocked else BundleChange.Kind.PASS_UNBLOCKED,
                pass_id=pass_obj.pk,
            )
            audit_record(
                actor=by,
                action="checkin.pass_blocked" if blocked else "checkin.pass_unblocked",
                target=pass_obj,
                reason=reason,
            )
    return pass_obj


def pass_door_search(*, event: Event, query: str, by: Any) -> list[Pass]:
    """The door search: a scanner or coordinator finds a guest without a QR code by the
    holder's name (2 characters or more, anywhere in the name) or the last four digits of their
    mobile number. The answer is bounded (``LINLI_CHECKIN_SEARCH_MAX``) and shows only masked
    names; every search is audited with who searched, how, a masked query and what it found."""
    query = (query or "").strip()
    by_phone = len(query) == 4 and query.isdigit()
    if not by_phone and len(query) < 2:
        raise ValidationFailed(
            errors=[
                field_error(
                    "search",
                    "too_short",
                    T(
                        "请输入至少 2 个字或手机号后四位。",
                        "Type 2 characters or more, or a phone's last 4 digits.",
                    ),
                )
            ]
        )
    if len(query) > 50:
        raise ValidationFailed(
            errors=[field_error("search", "too_long", T("不能超过 50 个字符。", "At most 50 characters."))]
        )
    found = passes_matching(event=event, query=query, by_phone=by_phone)
    with transaction.atomic():
        audit_record(
            actor=by,
            action="checkin.pass_searched",
            target=event,
            data={
                "by": "phone_last4" if by_phone else "name",
                "query": query if by_phone else mask_name(query),
                "found": [p.pk for p in found],
            },
        )
    return found


def pass_edited(*, pass_obj: Pass, by: Any = None) -> None:
    """A pass was edited by staff outside these services (the admin): offline bundles learn it."""
    with transaction.atomic():
        bundle_change_record(
            event_id=pass_obj.event_id, kind=BundleChange.Kind.PASS_CHANGED, pass_id=pass_obj.pk
        )


# --- passes follow volunteers' sign-ups ------------------------------------------------------------


def _volunteer_name(signup: Any) -> str:
    profile = (
        getattr(signup.user, "volunteer_profile", None) if hasattr(signup.user, "volunteer_profile") else None
    )
    return (getattr(profile, "real_name", "") or signup.user.display_name or "志愿者").strip()


_EVENT, _PASS = 0, 1
_events_and_passes = PreparedValues(
    lambda shift_id, signup_id: (
        Event.objects.filter(shifts=shift_id)
        .annotate(row_kind=Value(_EVENT, output_field=IntegerField()))
        .order_by()
        .values_list("row_kind", "pk")
        .union(
            Pass.objects.filter(signup_id=signup_id, status=Pass.Status.VALID)
            .annotate(row_kind=Value(_PASS, output_field=IntegerField()))
            .order_by()
            .values_list("row_kind", "pk"),
            all=True,
        )
    ),
    "shift_id",
    "signup_id",
)


def signup_passes_sync(*, signup: Any, by: Any = None) -> list[Pass]:
    """Passes follow sign-ups: a confirmed sign-up of a shift linked to an event has one valid
    pass for that event; any other state voids it. Called inside the volunteers' transaction."""
    # One read compiled once (it runs in every sign-up): the shift's events and the sign-up's
    # valid passes. Most shifts have no event.
    rows = _events_and_passes.rows(signup.shift_id, signup.pk)
    event_ids = sorted(pk for kind, pk in rows if kind == _EVENT)
    live_ids = [pk for kind, pk in rows if kind == _PASS]
    if not event_ids and not live_ids:
        return []
    events = list(Event.objects.filter(pk__in=event_ids).order_by("id"))
    live = {p.event_id: p for p in Pass.objects.filter(pk__in=live_ids)}
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


def signup_changed_listener(signup: Any) -> None:
    """Registered with ``backend.volunteers.hooks``: runs inside the volunteers' transaction."""
    signup_passes_sync(signup=signup)
