"""Registration: the volunteer profile (real name, sealed ID number, guardian, consents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import (
    InvalidIdNumber,
    parse_resident_id,
)
from backend.volunteers import conf
from backend.volunteers.errors import (
    ConsentRequired,
    GuardianConsentRequired,
    IdNumberTaken,
    TooYoung,
)
from backend.volunteers.models import (
    VolunteerConsent,
    VolunteerProfile,
)
from backend.volunteers.services._common import (
    ID_INDEX_PURPOSE,
    ID_PURPOSE,
    _clean_list,
    _division,
    _local_date,
    _mobile,
    _now,
)


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

    The ID number is validated (GB 11643), sealed, unique through a blind index; birth date and
    gender come from it. Under ``conf.min_age()`` is refused, under ``conf.adult_age()`` needs a
    guardian (name, mobile, relation, consent). The current consent versions must be accepted.
    """
    now = _now(now)
    real_name = (real_name or "").strip()
    errors = []
    if not real_name:
        errors.append(field_error("real_name", "required", T("此项必填。", "This field is required.")))
    try:
        parsed = parse_resident_id(id_number, today=_local_date(now))
    except InvalidIdNumber as exc:
        errors.append(
            field_error(
                "id_number",
                "invalid_id_number",
                T("身份证号码无效。", "The ID number is not valid."),
                reason=exc.reason,
            )
        )
        parsed = None
    if errors:
        raise ValidationFailed(errors=errors)
    assert parsed is not None
    mobile = _mobile(mobile, "mobile")
    division = _division(division_code)
    age = parsed.age_on(_local_date(now))
    if age < conf.min_age():
        raise TooYoung(min_age=conf.min_age())
    guardian = guardian or {}
    minor = age < conf.adult_age()
    if minor:
        missing = [k for k in ("name", "mobile", "relation") if not str(guardian.get(k) or "").strip()]
        if missing or guardian.get("consent") is not True:
            raise GuardianConsentRequired(
                errors=[
                    field_error(f"guardian.{k}", "required", T("此项必填。", "Required.")) for k in missing
                ]
                + (
                    []
                    if guardian.get("consent") is True
                    else [
                        field_error(
                            "guardian.consent", "required", T("需监护人同意。", "Guardian consent required.")
                        )
                    ]
                )
            )
        guardian_mobile = _mobile(str(guardian["mobile"]), "guardian.mobile")
    index = blind_index(parsed.number, purpose=ID_INDEX_PURPOSE)
    given = {(c.get("kind"), c.get("version")) for c in consents or []}
    required = conf.consent_versions()

    def save() -> VolunteerProfile:
        with transaction.atomic():
            found = VolunteerProfile.objects.select_for_update().filter(user=user).first()
            accepted: set[tuple[str, str]] = set()
            if found is not None:
                accepted = set(
                    found.consents.filter(withdrawn_at__isnull=True).values_list("kind", "version")
                )
            missing_consents = [
                k for k, v in required.items() if (k, v) not in given and (k, v) not in accepted
            ]
            if missing_consents:
                raise ConsentRequired(
                    errors=[
                        field_error(
                            "consents",
                            "consent_required",
                            T("请同意最新版本。", "Accept the current version."),
                            kind=k,
                            version=required[k],
                        )
                        for k in missing_consents
                    ]
                )
            if VolunteerProfile.objects.filter(id_number_index=index).exclude(user=user).exists():
                raise IdNumberTaken()
            created = found is None
            profile = VolunteerProfile(user=user) if found is None else found
            profile.real_name = real_name
            profile.id_type = VolunteerProfile.IdType.RESIDENT_ID
            if profile.id_number_index != index:
                profile.id_number_sealed = seal(parsed.number, purpose=ID_PURPOSE)
                profile.id_number_index = index
            profile.birth_date = parsed.birth_date
            profile.gender = parsed.gender
            profile.mobile = mobile
            profile.division = division
            profile.skills = _clean_list(skills)
            profile.service_categories = _clean_list(service_categories)
            profile.available_times = _clean_list(available_times)
            if minor:
                profile.guardian_name = str(guardian["name"]).strip()[:50]
                profile.guardian_mobile = guardian_mobile
                profile.guardian_relation = str(guardian["relation"]).strip()[:20]
            else:
                profile.guardian_name = profile.guardian_mobile = profile.guardian_relation = ""
            try:
                with transaction.atomic():
                    profile.save()
            except IntegrityError:
                raise IdNumberTaken() from None
            if not profile.volunteer_no:
                profile.volunteer_no = f"{division.code[:4]}{now.year}{profile.pk:07d}"
                profile.save(update_fields=["volunteer_no"])
            wanted = {(k, v) for k, v in given if k in required and required[k] == v}
            if minor:
                wanted.add(
                    (
                        VolunteerConsent.Kind.GUARDIAN,
                        str(guardian.get("consent_version") or required.get("terms", "1")),
                    )
                )
            for kind, version in wanted:
                VolunteerConsent.objects.get_or_create(
                    profile=profile, kind=kind, version=version, defaults={"accepted_at": now}
                )
            audit_record(
                actor=user,
                action="volunteer.registered" if created else "volunteer.profile_updated",
                target=profile,
                data={"volunteer_no": profile.volunteer_no, "minor": minor},
            )
        return profile

    return save()
