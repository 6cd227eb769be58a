"""Registration: the volunteer profile (real name, sealed ID number, guardian, consents).

``volunteer_profile_save`` runs its checks in a fixed order, each answering with its own error:
name and ID number, mobile, division, age (``too_young``), a minor's guardian, then inside the
transaction the consents and whether the ID number is someone else's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import InvalidIdNumber, ResidentId, age_on, parse_resident_id
from backend.divisions.models import Division
from backend.volunteers import conf
from backend.volunteers.errors import (
    ConsentRequired,
    GuardianConsentRequired,
    IdNumberCorrectionRequired,
    IdNumberTaken,
    TooYoung,
)
from backend.volunteers.models import ID_INDEX_PURPOSE, ID_PURPOSE, VolunteerConsent, VolunteerProfile
from backend.volunteers.services._common import _clean_list, _division, _local_date, _mobile, _now
from backend.volunteers.services.guardians import guardian_consent_requested
from backend.wechat.services.security import Scene, text_check

Consent = tuple[str | None, str | None]  # (kind, version) as the form gave them


@dataclass(frozen=True)
class Guardian:
    """A minor's guardian, checked: the consent was given."""

    name: str
    mobile: str
    relation: str
    consent_version: str


@dataclass(frozen=True)
class Registration:
    """What a registration form says once every check outside the database has passed."""

    real_name: str
    resident_id: ResidentId
    index: str
    mobile: str
    division: Division
    guardian: Guardian | None  # set for minors only
    consents: frozenset[Consent]

    @property
    def minor(self) -> bool:
        return self.guardian is not None


def volunteer_profile_save(
    *,
    user: User,
    real_name: str,
    id_number: str,
    mobile: str,
    division_code: str,
    skills: list[str] | None = None,
    service_categories: list[str] | None = None,
    available_times: list[str] | None = None,
    consents: list[dict[str, str]] | None = None,
    guardian: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> VolunteerProfile:
    """Register or update the caller as a volunteer (PUT semantics: the whole profile).

    Once registered, the ID number (and the birth date and gender it carries) only changes
    through a correction staff confirm: another number here is 409
    ``id_number_correction_required`` and nothing changes.

    The ID number is validated (GB 11643), sealed, unique through a blind index; birth date and
    gender come from it. Under ``conf.min_age()`` is refused, under ``conf.adult_age()`` needs a
    guardian (name, mobile, relation, consent). The current consent versions must be accepted.
    """
    now = _now(now)
    form = _registration_check(
        real_name=real_name,
        id_number=id_number,
        mobile=mobile,
        division_code=division_code,
        guardian=guardian or {},
        consents=consents or [],
        today=_local_date(now),
    )
    # The free text coordinators read in rosters: WeChat's content check (profile scene).
    checked = text_check(
        author=user,
        texts={
            "skills": "、".join(_clean_list(skills)),
            "service_categories": "、".join(_clean_list(service_categories)),
            "available_times": "、".join(_clean_list(available_times)),
        },
        scene=Scene.PROFILE,
    )
    with transaction.atomic():
        found = VolunteerProfile.objects.select_for_update().filter(user=user).first()
        if found is not None and found.id_number_index != form.index:
            # Not silently replaced: a correction, confirmed by staff (services.id_corrections).
            raise IdNumberCorrectionRequired(request="POST /api/v1/volunteer/profile/id-corrections")
        _consents_check(given=form.consents, accepted=_accepted_consents(found))
        if VolunteerProfile.objects.filter(id_number_index=form.index).exclude(user=user).exists():
            raise IdNumberTaken()
        profile = found or VolunteerProfile(user=user)
        _profile_fill(
            profile,
            form=form,
            skills=skills,
            service_categories=service_categories,
            available_times=available_times,
        )
        _profile_store(profile, division=form.division, now=now)
        checked.attach(profile)
        _consents_record(profile, form=form, now=now)
        if form.minor:
            guardian_consent_requested(profile=profile)
        audit_record(
            actor=user,
            action="volunteer.registered" if found is None else "volunteer.profile_updated",
            target=profile,
            data={"volunteer_no": profile.volunteer_no, "minor": form.minor},
        )
    return profile


# --- checks before the transaction ------------------------------------------------------------


def _registration_check(
    *,
    real_name: str,
    id_number: str,
    mobile: str,
    division_code: str,
    guardian: dict[str, Any],
    consents: Iterable[dict[str, str]],
    today: date,
) -> Registration:
    name, resident_id = _identity_check(real_name=real_name, id_number=id_number, today=today)
    mobile = _mobile(mobile, "mobile")
    division = _division(division_code)
    age = age_on(resident_id.birth_date, today)
    if age < conf.min_age():
        raise TooYoung(min_age=conf.min_age())
    return Registration(
        real_name=name,
        resident_id=resident_id,
        index=blind_index(resident_id.number, purpose=ID_INDEX_PURPOSE),
        mobile=mobile,
        division=division,
        guardian=_guardian_check(guardian) if age < conf.adult_age() else None,
        consents=frozenset((c.get("kind"), c.get("version")) for c in consents),
    )


def _identity_check(*, real_name: str, id_number: str, today: date) -> tuple[str, ResidentId]:
    """The trimmed real name and the parsed ID number; both problems are reported together."""
    name = (real_name or "").strip()
    errors = []
    if not name:
        errors.append(field_error("real_name", "required", T("此项必填。", "This field is required.")))
    resident_id = None
    try:
        resident_id = parse_resident_id(id_number, today=today)
    except InvalidIdNumber as exc:
        errors.append(
            field_error(
                "id_number",
                "invalid_id_number",
                T("身份证号码无效。", "The ID number is not valid."),
                reason=exc.reason,
            )
        )
    if errors or resident_id is None:
        raise ValidationFailed(errors=errors)
    return name, resident_id


def _guardian_check(guardian: dict[str, Any]) -> Guardian:
    """A minor registers naming a guardian (name, mobile, relation). The consent itself is the
    guardian's to give, signed in on their own phone (services/guardians.py): a ``consent`` box
    in the minor's form records nothing."""
    missing = [k for k in ("name", "mobile", "relation") if not str(guardian.get(k) or "").strip()]
    if missing:
        errors = [field_error(f"guardian.{k}", "required", T("此项必填。", "Required.")) for k in missing]
        raise GuardianConsentRequired(errors=errors)
    return Guardian(
        name=str(guardian["name"]).strip()[:50],
        mobile=_mobile(str(guardian["mobile"]), "guardian.mobile"),
        relation=str(guardian["relation"]).strip()[:20],
        consent_version=conf.guardian_consent_version(),
    )


# --- inside the transaction -------------------------------------------------------------------


def _accepted_consents(profile: VolunteerProfile | None) -> set[Consent]:
    if profile is None:
        return set()
    return set(profile.consents.filter(withdrawn_at__isnull=True).values_list("kind", "version"))


def consents_missing(
    *, given: Iterable[Consent], accepted: Iterable[Consent], required: dict[str, str]
) -> list[str]:
    """The kinds whose current version (``required``) is neither given now nor accepted before."""
    have = set(given) | set(accepted)
    return [kind for kind, version in required.items() if (kind, version) not in have]


def _consents_check(*, given: frozenset[Consent], accepted: set[Consent]) -> None:
    required = conf.consent_versions()
    missing = consents_missing(given=given, accepted=accepted, required=required)
    if missing:
        raise ConsentRequired(
            errors=[
                field_error(
                    "consents",
                    "consent_required",
                    T("请同意最新版本。", "Accept the current version."),
                    kind=kind,
                    version=required[kind],
                )
                for kind in missing
            ]
        )


def _profile_fill(
    profile: VolunteerProfile,
    *,
    form: Registration,
    skills: list[str] | None,
    service_categories: list[str] | None,
    available_times: list[str] | None,
) -> None:
    resident_id = form.resident_id
    profile.real_name = form.real_name
    profile.id_type = VolunteerProfile.IdType.RESIDENT_ID
    if profile.id_number_index != form.index:
        profile.id_number_sealed = seal(resident_id.number, purpose=ID_PURPOSE)
        profile.id_number_index = form.index
    profile.birth_date = resident_id.birth_date
    profile.gender = resident_id.gender
    profile.mobile = form.mobile
    profile.division = form.division
    profile.skills = _clean_list(skills)
    profile.service_categories = _clean_list(service_categories)
    profile.available_times = _clean_list(available_times)
    guardian = form.guardian
    profile.guardian_name = guardian.name if guardian else ""
    profile.guardian_mobile = guardian.mobile if guardian else ""
    profile.guardian_relation = guardian.relation if guardian else ""


def _profile_store(profile: VolunteerProfile, *, division: Division, now: datetime) -> None:
    """Save; a new volunteer gets their number (division, year, row id) once the row exists."""
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise IdNumberTaken() from None
    if not profile.volunteer_no:
        profile.volunteer_no = f"{division.code[:4]}{now.year}{profile.pk:07d}"
        profile.save(update_fields=["volunteer_no"])


def _consents_record(profile: VolunteerProfile, *, form: Registration, now: datetime) -> None:
    """Record the current versions given now (a guardian's consent is the guardian's to give)."""
    required = conf.consent_versions()
    wanted = {(k, v) for k, v in form.consents if k in required and required[k] == v}
    for kind, version in wanted:
        consent, created = VolunteerConsent.objects.get_or_create(
            profile=profile, kind=kind, version=version, defaults={"accepted_at": now}
        )
        if not created and consent.withdrawn_at is not None:  # given again after a withdrawal
            VolunteerConsent.objects.filter(pk=consent.pk).update(accepted_at=now, withdrawn_at=None)
