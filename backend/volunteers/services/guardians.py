"""Guardian consent (监护人同意) for minors, given by the guardian on their own phone.

A minor registers naming their guardian (name, mobile, relation); that records no consent. The
guardian signs in to Linli with that mobile number (a verified sign-in), sees the request
(``GET /me/guardian-requests``) and agrees to the current text version
(``LINLI_VOLUNTEER_GUARDIAN_CONSENT_VERSION``): the consent row keeps who (``given_by``), when
and which version. Until then the minor's sign-ups are refused (requirement
``guardian_consent``). The guardian (or the minor) may withdraw it: the registration lapses as
for any withdrawn consent (services/consents.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.notifications.services import notify
from backend.volunteers import conf
from backend.volunteers.models import VolunteerConsent, VolunteerProfile
from backend.volunteers.services._common import _now
from backend.volunteers.services.consents import consent_withdraw


def guardian_consent_requested(*, profile: VolunteerProfile) -> None:
    """Tell the guardian, if they have a Linli account, that a minor asks for their consent."""
    guardian = User.objects.filter(phone=profile.guardian_mobile).exclude(pk=profile.user_id).first()
    if guardian is not None:
        notify(
            user=guardian,
            kind="guardian.consent_requested",
            params={"minor": mask_name(profile.real_name), "relation": profile.guardian_relation},
            target=profile,
            dedupe_key=f"guardian.consent_requested:{profile.pk}",
        )


def guardian_profile(*, guardian: User, profile_id: int) -> VolunteerProfile:
    """The minor's profile naming ``guardian``'s (verified) phone as their guardian's, or 404."""
    profile = (
        VolunteerProfile.objects.filter(pk=profile_id, guardian_mobile=guardian.phone)
        .exclude(guardian_mobile="")
        .exclude(user=guardian)
        .first()
    )
    if profile is None:
        raise NotFound()
    return profile


def guardian_consent_give(
    *, guardian: User, profile: VolunteerProfile, version: str, now: datetime | None = None
) -> VolunteerConsent:
    """The guardian agrees to the current text version; an earlier consent is renewed."""
    now = _now(now)
    if version != conf.guardian_consent_version():
        raise ValidationFailed(
            errors=[
                field_error(
                    "version",
                    "outdated",
                    T("请阅读并同意当前版本的监护人同意书。", "Agree to the current version of the text."),
                    current=conf.guardian_consent_version(),
                )
            ]
        )
    with transaction.atomic():
        consent, created = VolunteerConsent.objects.select_for_update().get_or_create(
            profile=profile,
            kind=VolunteerConsent.Kind.GUARDIAN,
            version=version,
            defaults={"accepted_at": now, "given_by": guardian},
        )
        if not created:
            consent.accepted_at, consent.withdrawn_at, consent.given_by = now, None, guardian
            consent.save(update_fields=["accepted_at", "withdrawn_at", "given_by"])
        audit_record(
            actor=guardian,
            action="volunteer.guardian_consent_given",
            target=profile,
            data={"version": version, "relation": profile.guardian_relation},
        )
    return consent


def guardian_consent_withdraw(*, guardian: User, profile: VolunteerProfile) -> list[VolunteerConsent]:
    return consent_withdraw(profile=profile, kind=VolunteerConsent.Kind.GUARDIAN, by=guardian)
