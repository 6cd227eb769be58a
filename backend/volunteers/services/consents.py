"""Withdrawing consent (PIPL Art. 15 and 44; 志愿服务条例 Art. 20): ``DELETE /me/consents/{kind}``.

What follows a withdrawal (what was done before stays lawful):

- ``terms`` or ``privacy`` (the registration's basis) or ``guardian`` (a minor's): the
  registration lapses. Sign-ups for shifts ahead are cancelled at once (places go to the
  waitlist) and new sign-ups are refused (409 ``requirements_not_met``, requirement
  ``consent``) until the current version is accepted again (``PUT /volunteer/profile``).
  Service records already made stay: organisations must keep them.
- ``disclosure``: nothing about the volunteer is disclosed beyond what the service needs.

Withdrawal is recorded (``withdrawn_at``) rather than deleted: the record of what was agreed
when is itself the proof organisations keep.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import NotFound
from backend.volunteers.models import Signup, VolunteerConsent, VolunteerProfile
from backend.volunteers.selectors import registration_kinds
from backend.volunteers.services.signups import signup_cancel


def consent_withdraw(*, profile: VolunteerProfile, kind: str, by: User) -> list[VolunteerConsent]:
    """Withdraw every standing consent of ``kind``; the consequences above follow at once."""
    now = timezone.now()
    with transaction.atomic():
        standing = list(
            VolunteerConsent.objects.select_for_update().filter(
                profile=profile, kind=kind, withdrawn_at__isnull=True
            )
        )
        if not standing:
            raise NotFound()
        VolunteerConsent.objects.filter(pk__in=[c.pk for c in standing]).update(withdrawn_at=now)
        cancelled = _registration_lapses(profile=profile, by=by) if kind in registration_kinds() else 0
        audit_record(
            actor=by,
            action="volunteer.consent_withdrawn",
            target=profile,
            data={"kind": kind, "versions": [c.version for c in standing], "signups_cancelled": cancelled},
        )
    for consent in standing:
        consent.withdrawn_at = now
    return standing


def _registration_lapses(*, profile: VolunteerProfile, by: User) -> int:
    upcoming = Signup.objects.filter(
        user_id=profile.user_id, status__in=Signup.ACTIVE_STATUSES, shift__starts_at__gt=timezone.now()
    ).select_related("shift")
    count = 0
    for signup in upcoming:
        signup_cancel(signup=signup, by=by)
        count += 1
    return count
