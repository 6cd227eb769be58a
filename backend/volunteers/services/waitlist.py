"""The waitlist: promoting waitlisters to free places, confirming or letting a promotion lapse."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import User
from backend.core.errors import InvalidTransition
from backend.core.i18n import T
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.models import Shift, Signup
from backend.volunteers.services._common import _changed, _lock_shift_of, _now, _retrying


def _promote_waitlisted(*, shift: Shift, now: datetime) -> list[Signup]:
    """Give free places to waitlisted volunteers, first in first out; each gets a confirm-by time.

    Runs inside the caller's transaction. A place is taken with the same conditional UPDATE as
    a sign-up, and the waitlister is moved with ``UPDATE … WHERE status='waitlisted'``, so two
    concurrent cancellations never promote the same person or more people than places.
    """
    promoted: list[Signup] = []
    if now >= shift.starts_at or shift.status != Shift.Status.OPEN:
        return promoted
    confirm_by = min(now + conf.promotion_confirm_window(), shift.starts_at)
    while True:
        candidate = (
            Signup.objects.filter(shift_id=shift.pk, status=Signup.Status.WAITLISTED)
            .order_by("created_at", "id")
            .first()
        )
        if candidate is None:
            break
        if not Shift.objects.filter(pk=shift.pk, taken__lt=F("capacity")).update(taken=F("taken") + 1):
            break
        moved = Signup.objects.filter(pk=candidate.pk, status=Signup.Status.WAITLISTED).update(
            status=Signup.Status.PROMOTED, promoted_at=now, confirm_by=confirm_by
        )
        if not moved:  # someone else moved them first: give the place back and look again
            Shift.objects.filter(pk=shift.pk).update(taken=F("taken") - 1)
            continue
        Shift.objects.filter(pk=shift.pk).update(waitlisted=F("waitlisted") - 1)
        candidate.status, candidate.promoted_at, candidate.confirm_by = (
            Signup.Status.PROMOTED,
            now,
            confirm_by,
        )
        candidate.shift = shift
        notify(
            user=candidate.user_id,
            kind="signup.promoted",
            params={
                "activity": shift.activity.title,
                "starts_at": timezone.localtime(shift.starts_at).strftime("%m-%d %H:%M"),
                "confirm_by": timezone.localtime(confirm_by).strftime("%m-%d %H:%M"),
                "signup_id": candidate.pk,
            },
            target=candidate,
            urgent=True,
            dedupe_key=f"signup.promoted:{candidate.pk}",
        )
        _changed(candidate, actor=None, action="signup.promoted", data={"confirm_by": confirm_by.isoformat()})
        promoted.append(candidate)
    return promoted


def signup_confirm(*, signup: Signup, by: User, now: datetime | None = None) -> Signup:
    """A promoted volunteer takes the place before their confirm-by time."""
    now = _now(now)

    def confirm() -> Signup:
        with transaction.atomic():
            current = Signup.objects.select_related("shift").get(pk=signup.pk)
            if current.status == Signup.Status.CONFIRMED:
                return current
            if current.status != Signup.Status.PROMOTED or (current.confirm_by and now > current.confirm_by):
                raise InvalidTransition(
                    T("该候补转正已失效。", "This promotion is no longer open."), status=current.status
                )
            if not Signup.objects.filter(pk=current.pk, status=Signup.Status.PROMOTED).update(
                status=Signup.Status.CONFIRMED, confirmed_at=now
            ):
                raise InvalidTransition()
            current.status, current.confirmed_at = Signup.Status.CONFIRMED, now
            _changed(current, actor=by, action="signup.confirmed")
            return current

    return _retrying(confirm)


def signup_promotions_expire(*, now: datetime | None = None) -> int:
    """Promotions not confirmed in time lapse (``expired``) and pass to the next waitlister."""
    now = _now(now)
    count = 0
    for pk in list(
        Signup.objects.filter(status=Signup.Status.PROMOTED, confirm_by__lt=now).values_list("pk", flat=True)[
            :500
        ]
    ):

        def expire(pk: int = pk) -> bool:
            with transaction.atomic():
                _lock_shift_of(signup_id=pk)
                current = Signup.objects.select_related("shift", "shift__activity").get(pk=pk)
                if not Signup.objects.filter(pk=pk, status=Signup.Status.PROMOTED, confirm_by__lt=now).update(
                    status=Signup.Status.EXPIRED
                ):
                    return False
                current.status = Signup.Status.EXPIRED
                Shift.objects.filter(pk=current.shift_id).update(taken=F("taken") - 1)
                notify(
                    user=current.user_id,
                    kind="signup.promotion_expired",
                    params={"activity": current.shift.activity.title},
                    target=current,
                    dedupe_key=f"signup.promotion_expired:{pk}",
                )
                _changed(current, actor=None, action="signup.promotion_expired")
                _promote_waitlisted(shift=current.shift, now=now)
                return True

        count += bool(_retrying(expire))
    return count
