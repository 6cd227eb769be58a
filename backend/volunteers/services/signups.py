"""Sign-ups: taking a place or a waitlist spot, cancelling, marking a no-show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.db import PreparedInsert, PreparedUpdate, PreparedValues
from backend.core.errors import DomainError, InvalidTransition, NotFound
from backend.core.times import iso_local
from backend.core.validators import age_on
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.errors import (
    AlreadySignedUp,
    CancelNotAllowed,
    OverlappingShift,
    RequirementsNotMet,
    ShiftFull,
    SignupClosed,
    VolunteerBanned,
)
from backend.volunteers.models import Activity, Shift, Signup, VolunteerProfile
from backend.volunteers.selectors import consent_lapsed, guardian_consented, registration_kinds
from backend.volunteers.services._common import _changed, _local_date, _lock_shift_of, _now, _retrying
from backend.volunteers.services.waitlist import _promote_waitlisted


def _check_requirements(*, profile: VolunteerProfile, activity: Activity, shift: Shift) -> None:
    reasons = []
    age = age_on(profile.birth_date, _local_date(shift.starts_at))
    needed_age = max(activity.min_age, conf.min_age())
    if age < needed_age:
        reasons.append({"requirement": "min_age", "required": needed_age, "actual": age})
    missing = [s for s in activity.required_skills if s not in (profile.skills or [])]
    if missing:
        reasons.append({"requirement": "skills", "missing": missing})
    if getattr(profile, "consent_lapsed", False):  # a withdrawn consent (services/consents.py)
        reasons.append({"requirement": "consent"})
    if age < conf.adult_age() and not getattr(profile, "guardian_consented", False):
        reasons.append({"requirement": "guardian_consent"})  # services/guardians.py
    if reasons:
        raise RequirementsNotMet(reasons=reasons)


class _Unexpected(Exception):
    """The place or spot a sign-up was counted for had gone (``expect``): its transaction is
    rolled back and the sign-up runs again the usual way."""


def shift_signup_create(
    *,
    shift_id: int,
    user: User,
    now: datetime | None = None,
    gate_read: bool = False,
    expect: str | None = None,
) -> Signup:
    """Sign up for a shift: a place if one is free (``confirmed``), else the waitlist.

    Places are taken by ``UPDATE shift SET taken = taken + 1 WHERE taken < capacity`` (0 rows →
    full) inside the transaction, backed by a CheckConstraint; a partial UniqueConstraint stops
    a double sign-up. The volunteer's profile row is locked first so the overlap check holds.

    ``gate_read``: the sign-up gate (``api.volunteers.fastpath``) has just read this shift open
    for this volunteer, so the unlocked pre-check is not read again. ``expect``: the status the
    gate counted this sign-up for (``confirmed``: one of the places it read free, ``waitlisted``:
    one of the waitlist spots), see ``_signup_create_locked``.
    """
    now = _now(now)
    if not gate_read:
        _refuse_if_plainly_full(shift_id=shift_id, user=user)

    def attempt(expect: str | None) -> Signup:
        try:
            with transaction.atomic():
                return _signup_create_locked(shift_id=shift_id, user=user, now=now, expect=expect)
        except IntegrityError as exc:
            if Signup.objects.filter(
                shift_id=shift_id, user=user, status__in=Signup.ACTIVE_STATUSES
            ).exists():
                raise AlreadySignedUp() from None
            raise exc

    if expect is not None:
        try:
            return _retrying(lambda: attempt(expect))
        except _Unexpected:
            pass
    return _retrying(lambda: attempt(None))


GATE_FIELDS = ("taken", "capacity", "waitlisted", "waitlist_size", "activity__status", "mine")


def active_signups(**filters: Any) -> QuerySet[Signup]:
    """Sign-ups that count as this volunteer's for the shift (a second one is ``already_signed_up``)."""
    return Signup.objects.filter(status__in=sorted(Signup.ACTIVE_STATUSES), **filters)


def shift_gate(*, shift_id: Any, user_id: Any) -> QuerySet[Shift]:
    """The shift with what the gate needs (``GATE_FIELDS``): its counters, its activity's status and
    whether this volunteer already holds a sign-up (``mine``). Also read on the event loop by the
    sign-up fast path (``api.volunteers.fastpath``)."""
    return Shift.objects.filter(pk=shift_id).annotate(
        mine=Exists(active_signups(shift_id=OuterRef("pk"), user_id=user_id))
    )


def plainly_full(row: tuple[Any, ...] | None) -> DomainError | None:
    """The refusal a gate row (``GATE_FIELDS``) gives at once, if any: ``already_signed_up`` or
    ``shift_full`` when places and waitlist are both taken. "Full" read from committed counters
    is a true answer at the moment of the read; anything else (``None``) goes through the locked
    path, which decides."""
    if row is None:
        return None
    taken, capacity, waitlisted, waitlist_size, activity_status, mine = row
    if activity_status != Activity.Status.PUBLISHED:
        return None
    if taken < capacity or waitlisted < waitlist_size:
        return None
    return AlreadySignedUp() if mine else ShiftFull()


_shift_gate = PreparedValues(
    lambda shift_id, user_id: shift_gate(shift_id=shift_id, user_id=user_id).values_list(*GATE_FIELDS)[:1],
    "shift_id",
    "user_id",
)


def _refuse_if_plainly_full(*, shift_id: int, user: User) -> None:
    """Answer a sign-up for a shift that is full, waitlist included, without a write transaction.

    In a burst most requests meet a full shift; reading the committed counters (no lock) and
    refusing at once keeps them from queueing for the write lock. One query, compiled once
    (``PreparedValues``)."""
    refusal = plainly_full(_shift_gate.first(shift_id, user.pk))
    if refusal is not None:
        raise refusal


_PROFILE_FIELDS = ["id", "user_id", "birth_date", "skills", "banned_until"]
_locked_profile = PreparedValues(
    lambda user_id: (
        VolunteerProfile.objects.select_for_update()
        .filter(user_id=user_id)
        .annotate(consent_lapsed=consent_lapsed(), guardian_consented=guardian_consented())
        .values_list(*_PROFILE_FIELDS, "consent_lapsed", "guardian_consented")[:1]
    ),
    "user_id",
    vary_on=lambda: tuple(sorted(registration_kinds())),
)
_SHIFT_FIELDS = [f.attname for f in Shift._meta.concrete_fields]
_ACTIVITY_FIELDS = [f.attname for f in Activity._meta.concrete_fields]
_TAKING = sorted(Signup.HOLDING_STATUSES | {Signup.Status.WAITLISTED})


def _shift_for_signup(shift_id: int, user_id: int) -> Any:
    """The shift with its activity, whether this volunteer already holds or waits for a place on
    it (``already``), and the first other shift of theirs that overlaps it in time (``clash``)."""
    theirs = Signup.objects.filter(user_id=user_id, status__in=_TAKING)
    return (
        Shift.objects.filter(pk=shift_id)
        .annotate(
            already=Exists(theirs.filter(shift_id=OuterRef("pk"))),
            clash=Subquery(
                theirs.filter(
                    shift__starts_at__lt=OuterRef("ends_at"), shift__ends_at__gt=OuterRef("starts_at")
                )
                .exclude(shift_id=OuterRef("pk"))
                .order_by("shift_id")
                .values("shift_id")[:1]
            ),
        )
        .values_list(*_SHIFT_FIELDS, *[f"activity__{name}" for name in _ACTIVITY_FIELDS], "already", "clash")[
            :1
        ]
    )


_shift_with_activity = PreparedValues(_shift_for_signup, "shift_id", "user_id")


# The writes of every sign-up, compiled once too: from the first UPDATE on, the shift's row is
# locked (PostgreSQL) and every other sign-up for the shift waits for this one to commit.
_take_place = PreparedUpdate(
    lambda shift_id: Shift.objects.filter(pk=shift_id, taken__lt=F("capacity")),
    "shift_id",
    changes={"taken": F("taken") + 1},
)
_take_waitlist_spot = PreparedUpdate(
    lambda shift_id: Shift.objects.filter(pk=shift_id, waitlisted__lt=F("waitlist_size")),
    "shift_id",
    changes={"waitlisted": F("waitlisted") + 1},
)
_insert_signup = PreparedInsert(Signup)


def _read_locked(
    *, shift_id: int, user: User
) -> tuple[VolunteerProfile | None, Shift | None, bool, int | None]:
    """The volunteer's profile (locked first: the overlap check holds), the shift with its
    activity, and the overlap check's answer (``already``, ``clash``): two queries compiled once
    (``PreparedValues``)."""
    row = _locked_profile.first(user.pk)
    profile = None
    if row is not None:
        profile = VolunteerProfile.from_db("default", _PROFILE_FIELDS, row[:-2])
        profile.consent_lapsed, profile.guardian_consented = row[-2:]  # type: ignore[attr-defined]
        profile.user = user
    row = _shift_with_activity.first(shift_id, user.pk)
    if row is None:
        return profile, None, False, None
    split = len(_SHIFT_FIELDS)
    shift = Shift.from_db("default", _SHIFT_FIELDS, row[:split])
    shift.activity = Activity.from_db("default", _ACTIVITY_FIELDS, row[split:-2])
    return profile, shift, bool(row[-2]), row[-1]


def _signup_create_locked(
    *, shift_id: int, user: User, now: datetime, actor: User | None = None, expect: str | None = None
) -> Signup:
    """The locked path every sign-up takes (single, team, transfer): the caller owns the
    transaction. ``actor``: who acts (the team leader), the volunteer by default.

    The counter's conditional UPDATE locks the shift's row (PostgreSQL) until the transaction
    ends, so every other sign-up for the shift waits that long. Without ``expect`` it comes first,
    since it decides the status the sign-up is written with. With ``expect`` (the gate counted
    this sign-up for a place or a waitlist spot) the sign-up, its audit row and its pass are
    written with that status first and the counter's UPDATE comes last, just before COMMIT: the
    row is locked for two round trips instead of five. If that UPDATE finds nothing left (the
    count was another process's), ``_Unexpected`` rolls everything back for a run without
    ``expect``. Measured in ``bench/signup_burst`` on PostgreSQL: each of a burst's 30 sign-ups
    held the row 4.8 ms (INSERT 0.9, audit and pass read 1.6, COMMIT 1.3, the hand-over to the
    next 0.8), and the 170 refusals waited for the last of them."""
    profile, shift, already, clash = _read_locked(shift_id=shift_id, user=user)
    if shift is None or shift.activity.status == Activity.Status.DRAFT:
        raise NotFound()
    activity = shift.activity
    if profile is None:
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    if (
        shift.status != Shift.Status.OPEN
        or activity.status != Activity.Status.PUBLISHED
        or now >= shift.starts_at
        or (shift.signup_opens_at and now < shift.signup_opens_at)
        or (shift.signup_closes_at and now >= shift.signup_closes_at)
    ):
        raise SignupClosed(opens_at=shift.signup_opens_at, closes_at=shift.signup_closes_at)
    if profile.banned_until and profile.banned_until > now:
        raise VolunteerBanned(until=iso_local(profile.banned_until))
    _check_requirements(profile=profile, activity=activity, shift=shift)
    if already:
        raise AlreadySignedUp()
    if clash is not None:
        raise OverlappingShift(shift_id=clash)
    if expect is None:
        status = _take_place_or_spot(shift.pk)
    elif expect in (Signup.Status.CONFIRMED, Signup.Status.WAITLISTED):
        status = Signup.Status(expect)
    else:
        raise ValueError(f"expect: {expect!r}")
    signup = _insert_signup.create(
        shift=shift, user=user, status=status, confirmed_at=now if status == Signup.Status.CONFIRMED else None
    )
    signup.shift = shift
    _changed(signup, actor=actor or user, action="signup.created")
    if expect is not None:
        taken = _take_place if status == Signup.Status.CONFIRMED else _take_waitlist_spot
        if not taken.run(shift.pk):
            raise _Unexpected()
    return signup


def _take_place_or_spot(shift_id: int) -> str:
    if _take_place.run(shift_id):
        return Signup.Status.CONFIRMED
    if _take_waitlist_spot.run(shift_id):
        return Signup.Status.WAITLISTED
    raise ShiftFull()


def signup_cancel(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """Cancel before the shift starts (after the deadline it counts as ``cancelled_late``); a held
    place goes to the first waitlisted volunteer in the same transaction."""
    now = _now(now)

    def cancel() -> Signup:
        with transaction.atomic():
            _lock_shift_of(signup_id=signup.pk)
            current = Signup.objects.select_related("shift", "shift__activity").get(pk=signup.pk)
            shift = current.shift
            if (
                current.status not in Signup.HOLDING_STATUSES | {Signup.Status.WAITLISTED}
                or current.status == Signup.Status.ATTENDED
            ):
                raise CancelNotAllowed(status=current.status)
            if now >= shift.starts_at:
                raise CancelNotAllowed(status=current.status, reason="started")
            late = (
                bool(shift.cancel_deadline and now > shift.cancel_deadline)
                and current.status != Signup.Status.WAITLISTED
            )
            new_status = Signup.Status.CANCELLED_LATE if late else Signup.Status.CANCELLED
            if not Signup.objects.filter(pk=current.pk, status=current.status).update(
                status=new_status, cancelled_at=now
            ):
                raise CancelNotAllowed()
            was = current.status
            current.status, current.cancelled_at = new_status, now
            if was == Signup.Status.WAITLISTED:
                Shift.objects.filter(pk=shift.pk).update(waitlisted=F("waitlisted") - 1)
            else:
                Shift.objects.filter(pk=shift.pk).update(taken=F("taken") - 1)
            _changed(current, actor=by, action="signup.cancelled", data={"was": was, "late": late})
            if was != Signup.Status.WAITLISTED:
                _promote_waitlisted(shift=shift, now=now)
            return current

    return _retrying(cancel)


def signup_mark_no_show(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """The coordinator marks a confirmed volunteer absent once the shift has started; N no-shows
    within the window ban the volunteer from signing up for a while."""
    now = _now(now)
    with transaction.atomic():
        _lock_shift_of(signup_id=signup.pk)
        current = Signup.objects.select_related("shift", "shift__activity").get(pk=signup.pk)
        if current.status != Signup.Status.CONFIRMED or now < current.shift.starts_at:
            raise InvalidTransition(status=current.status)
        if not Signup.objects.filter(pk=current.pk, status=Signup.Status.CONFIRMED).update(
            status=Signup.Status.NO_SHOW, no_show_at=now
        ):
            raise InvalidTransition()
        current.status, current.no_show_at = Signup.Status.NO_SHOW, now
        Shift.objects.filter(pk=current.shift_id).update(taken=F("taken") - 1)
        _changed(current, actor=by, action="signup.no_show")
        recent = Signup.objects.filter(
            user_id=current.user_id, status=Signup.Status.NO_SHOW, no_show_at__gte=now - conf.no_show_window()
        ).count()
        if recent >= conf.no_show_limit():
            until = now + conf.no_show_ban()
            profile = VolunteerProfile.objects.select_for_update().filter(user_id=current.user_id).first()
            if profile is not None and (profile.banned_until is None or profile.banned_until < until):
                profile.banned_until = until
                profile.save(update_fields=["banned_until", "updated_at"])
                audit_record(
                    actor=by,
                    action="volunteer.banned",
                    target=profile,
                    data={"until": until.isoformat(), "no_shows": recent},
                )
                notify(
                    user=current.user_id,
                    kind="volunteer.banned",
                    params={"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"), "count": recent},
                    target=profile,
                    dedupe_key=f"volunteer.banned:{profile.pk}:{until:%Y%m%d%H%M}",
                )
    return current
