"""Transferring a place: a volunteer offers their confirmed place to a named volunteer, who accepts
before the offer expires. Giving a place back to the waitlist is cancelling it
(``signup_cancel``: the first waitlisted volunteer is promoted).

On acceptance, in one transaction: the receiver's profile is locked, then the shift (the order
single sign-ups take), the giver's sign-up becomes ``transferred`` and frees its place, and the
receiver takes it through the single sign-up's locked path (``_signup_create_locked``: age,
skills, consent, overlap, bans, the sign-up window). If the receiver fails a check, or the place
would only be a waitlist spot, nothing changes. The freed place never reaches the waitlist in
between: the shift stays locked.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.errors import AlreadySignedUp, ShiftFull, TransferExpired
from backend.volunteers.models import Shift, Signup, SignupTransfer, VolunteerProfile
from backend.volunteers.services._common import _changed, _now, _retrying
from backend.volunteers.services.signups import _signup_create_locked

Offer = SignupTransfer


def _name(user_id: int) -> str:
    profile = VolunteerProfile.objects.filter(user_id=user_id).only("real_name").first()
    return mask_name(profile.real_name) if profile else ""


def signup_transfer_offer(
    *, signup: Signup, by: User, volunteer_no: str, now: datetime | None = None
) -> Offer:
    """The holder of a confirmed place offers it to the volunteer numbered ``volunteer_no``; the
    offer lapses after ``LINLI_VOLUNTEER_TRANSFER_HOURS`` or when the shift starts, if sooner."""
    now = _now(now)
    receiver = VolunteerProfile.objects.filter(volunteer_no=volunteer_no.strip()).first()
    if receiver is None or receiver.user_id == by.pk:
        raise ValidationFailed(
            errors=[
                field_error("volunteer_no", "not_found", T("没有该志愿者编号。", "No such volunteer number."))
            ]
        )
    with transaction.atomic():
        current = Signup.objects.select_for_update().select_related("shift__activity").get(pk=signup.pk)
        if (
            current.user_id != by.pk
            or current.status != Signup.Status.CONFIRMED
            or now >= current.shift.starts_at
        ):
            raise InvalidTransition(status=current.status)
        Offer.objects.filter(signup=current, status=Offer.Status.OFFERED, expires_at__lte=now).update(
            status=Offer.Status.EXPIRED, decided_at=now
        )
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    signup=current,
                    from_user=by,
                    to_user_id=receiver.user_id,
                    expires_at=min(now + conf.transfer_offer_window(), current.shift.starts_at),
                )
        except IntegrityError:
            raise InvalidTransition(
                T("该名额已有待接受的转让。", "This place already has an open transfer offer."),
                status="offered",
            ) from None
        audit_record(actor=by, action="signup.transfer_offered", target=offer, data={"to": receiver.user_id})
        notify(
            user=receiver.user_id,
            kind="transfer.offered",
            params={
                "from": _name(by.pk),
                "activity": current.shift.activity.title,
                "starts_at": timezone.localtime(current.shift.starts_at).strftime("%m-%d %H:%M"),
            },
            target=offer,
        )
    return offer


def _open_offer(*, offer: Offer, now: datetime) -> Offer:
    current = Offer.objects.select_for_update().get(pk=offer.pk)
    if current.status != Offer.Status.OFFERED:
        raise InvalidTransition(status=current.status)
    if now >= current.expires_at:
        raise TransferExpired(expired_at=current.expires_at.isoformat())
    return current


def _expired(*, offer: Offer, now: datetime) -> None:
    """Keep an offer's expiry (after the refused transaction rolled back)."""
    Offer.objects.filter(pk=offer.pk, status=Offer.Status.OFFERED, expires_at__lte=now).update(
        status=Offer.Status.EXPIRED, decided_at=now
    )


def signup_transfer_accept(*, offer: Offer, by: User, now: datetime | None = None) -> Offer:
    """The named volunteer accepts: the place moves atomically (see the module docstring)."""
    now = _now(now)

    def attempt() -> Offer:
        with transaction.atomic():
            list(VolunteerProfile.objects.select_for_update().filter(user=by).values("pk"))
            shift_id = Signup.objects.filter(pk=offer.signup_id).values_list("shift_id", flat=True).get()
            list(Shift.objects.select_for_update().filter(pk=shift_id).values("pk"))
            current = _open_offer(offer=offer, now=now)
            if current.to_user_id != by.pk:
                raise NotFound()
            _move_place(offer=current, receiver=by, now=now)
            return current

    try:
        return _retrying(attempt)
    except TransferExpired:
        _expired(offer=offer, now=now)
        raise


def _move_place(*, offer: Offer, receiver: User, now: datetime) -> None:
    giver = Signup.objects.select_related("shift").get(pk=offer.signup_id)
    if not Signup.objects.filter(pk=giver.pk, status=Signup.Status.CONFIRMED).update(
        status=Signup.Status.TRANSFERRED, cancelled_at=now
    ):
        raise InvalidTransition(
            T("转让人已不再持有该名额。", "The place is no longer held by the giver."), status=giver.status
        )
    Shift.objects.filter(pk=giver.shift_id).update(taken=F("taken") - 1)
    giver.status, giver.cancelled_at = Signup.Status.TRANSFERRED, now
    _changed(giver, actor=receiver, action="signup.transferred", data={"to": receiver.pk, "offer": offer.pk})
    try:
        with transaction.atomic():
            taken = _signup_create_locked(shift_id=giver.shift_id, user=receiver, now=now)
    except IntegrityError:
        raise AlreadySignedUp() from None
    if taken.status != Signup.Status.CONFIRMED:  # cannot happen while the shift is locked
        raise ShiftFull()
    offer.status, offer.decided_at, offer.new_signup = Offer.Status.ACCEPTED, now, taken
    offer.save(update_fields=["status", "decided_at", "new_signup"])
    audit_record(actor=receiver, action="signup.transfer_accepted", target=offer, data={"signup": taken.pk})
    notify(
        user=offer.from_user_id,
        kind="transfer.accepted",
        params={"to": _name(receiver.pk), "activity": giver.shift.activity.title},
        target=offer,
    )


def signup_transfer_close(*, offer: Offer, by: User, now: datetime | None = None) -> Offer:
    """The receiver declines, or the giver withdraws, an open offer."""
    now = _now(now)
    try:
        with transaction.atomic():
            current = _open_offer(offer=offer, now=now)
            if by.pk not in (current.from_user_id, current.to_user_id):
                raise NotFound()
            current.status = (
                Offer.Status.WITHDRAWN if by.pk == current.from_user_id else Offer.Status.DECLINED
            )
            current.decided_at = now
            current.save(update_fields=["status", "decided_at"])
            audit_record(actor=by, action=f"signup.transfer_{current.status}", target=current)
    except TransferExpired:
        _expired(offer=offer, now=now)
        raise
    return current
