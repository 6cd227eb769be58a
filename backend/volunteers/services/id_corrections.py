"""Correcting a registered volunteer's ID number (实名信息更正).

A new number is never written by ``PUT /volunteer/profile``. The volunteer asks
(:func:`id_correction_request`): the number passes the registration checks (GB 11643 and a real
birth date, the minimum age, a guardian on the profile for a minor, not someone else's) and waits.
Staff who saw the person's card confirm it by typing the number from the card
(:func:`id_correction_confirm`: it must be the one requested), or reject it with a reason. On
confirmation the profile takes the new number, birth date and gender; the request keeps both
numbers sealed as history; every step is audited with masked numbers; service records, sign-ups
and certificates belong to the account and stay with the person.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal, unseal
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_id_number
from backend.core.validators import ResidentId, age_on
from backend.volunteers import conf
from backend.volunteers.errors import (
    GuardianConsentRequired,
    IdCorrectionPending,
    IdNumberMismatch,
    IdNumberTaken,
    TooYoung,
)
from backend.volunteers.models import ID_INDEX_PURPOSE, ID_PURPOSE, IdNumberCorrection, VolunteerProfile
from backend.volunteers.services._common import _local_date, _now
from backend.volunteers.services.profiles import _identity_check


def _checked_number(*, profile: VolunteerProfile, id_number: str, now: datetime) -> tuple[ResidentId, str]:
    """The registration checks on a new number for ``profile``: its parsed form and blind index."""
    today = _local_date(now)
    _name, resident_id = _identity_check(real_name=profile.real_name, id_number=id_number, today=today)
    index = blind_index(resident_id.number, purpose=ID_INDEX_PURPOSE)
    if index == profile.id_number_index:
        raise ValidationFailed(
            errors=[
                field_error(
                    "id_number",
                    "unchanged",
                    T("与已登记的号码相同。", "This is the number already registered."),
                )
            ]
        )
    age = age_on(resident_id.birth_date, today)
    if age < conf.min_age():
        raise TooYoung(min_age=conf.min_age())
    if age < conf.adult_age() and not profile.guardian_name:
        raise GuardianConsentRequired(
            errors=[field_error("guardian", "required", T("需监护人同意。", "Guardian consent required."))]
        )
    if VolunteerProfile.objects.filter(id_number_index=index).exclude(pk=profile.pk).exists():
        raise IdNumberTaken()
    return resident_id, index


def id_correction_request(
    *, profile: VolunteerProfile, id_number: str, reason: str, now: datetime | None = None
) -> IdNumberCorrection:
    """The volunteer asks for ``id_number`` to replace the registered one (one pending at a time)."""
    now = _now(now)
    resident_id, index = _checked_number(profile=profile, id_number=id_number, now=now)
    try:
        with transaction.atomic():
            correction = IdNumberCorrection.objects.create(
                profile=profile,
                old_number_sealed=profile.id_number_sealed,
                new_number_sealed=seal(resident_id.number, purpose=ID_PURPOSE),
                new_number_index=index,
                reason=reason.strip()[:500],
                requested_at=now,
            )
            audit_record(
                actor=profile.user,
                action="volunteer.id_correction_requested",
                target=correction,
                data=_masked(correction),
            )
    except IntegrityError:
        raise IdCorrectionPending() from None
    return correction


def _masked(correction: IdNumberCorrection) -> dict[str, str]:
    return {
        "old": mask_id_number(unseal(correction.old_number_sealed, purpose=ID_PURPOSE)),
        "new": mask_id_number(unseal(correction.new_number_sealed, purpose=ID_PURPOSE)),
    }


def _locked_pending(correction: IdNumberCorrection) -> IdNumberCorrection:
    current = IdNumberCorrection.objects.select_for_update().select_related("profile").get(pk=correction.pk)
    if current.status != IdNumberCorrection.Status.PENDING:
        raise InvalidTransition(status=current.status)
    return current


def id_correction_confirm(
    *, correction: IdNumberCorrection, by: User, id_number: str, now: datetime | None = None
) -> IdNumberCorrection:
    """Staff confirm after checking the card: ``id_number`` (typed from the card) must be the
    number requested. The checks run again (another profile may have taken it meanwhile)."""
    now = _now(now)
    with transaction.atomic():
        current = _locked_pending(correction)
        profile = VolunteerProfile.objects.select_for_update().get(pk=current.profile_id)
        typed = (id_number or "").strip().upper()
        if blind_index(typed, purpose=ID_INDEX_PURPOSE) != current.new_number_index:
            raise IdNumberMismatch()
        resident_id, index = _checked_number(profile=profile, id_number=typed, now=now)
        profile.id_number_sealed = current.new_number_sealed
        profile.id_number_index = index
        profile.birth_date = resident_id.birth_date
        profile.gender = resident_id.gender
        try:
            with transaction.atomic():
                profile.save(
                    update_fields=[
                        "id_number_sealed",
                        "id_number_index",
                        "birth_date",
                        "gender",
                        "updated_at",
                    ]
                )
        except IntegrityError:
            raise IdNumberTaken() from None
        current.status = IdNumberCorrection.Status.CONFIRMED
        current.decided_by, current.decided_at = by, now
        current.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=by,
            action="volunteer.id_number_corrected",
            target=current,
            data={**_masked(current), "user": profile.user_id},
        )
    return current


def id_correction_reject(
    *, correction: IdNumberCorrection, by: User, reason: str, now: datetime | None = None
) -> IdNumberCorrection:
    """Staff reject the request, with the reason the volunteer reads."""
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("此项必填。", "This field is required."))]
        )
    with transaction.atomic():
        current = _locked_pending(correction)
        current.status = IdNumberCorrection.Status.REJECTED
        current.decided_by, current.decided_at = by, _now(now)
        current.decision_reason = reason.strip()[:500]
        current.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit_record(
            actor=by,
            action="volunteer.id_correction_rejected",
            target=current,
            data={"reason": current.decision_reason},
        )
    return current
