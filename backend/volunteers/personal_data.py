"""The volunteers domain's part of a person's data rights: registration, consents, sign-ups,
service records, certificates.

Cancellation: future sign-ups are cancelled at once (places go to the waitlist); when it takes
effect the profile (real name, ID number, mobile, guardian, birth date) is deleted, so the ID
number can register again, and the service records, past sign-ups and certificates stay, naming
the pseudonym (organisations must keep them: 志愿服务记录办法)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from backend.accounts.hooks import DataSection, account_cancelling, account_erasing, iso, personal_data
from backend.core.audit import audit_record
from backend.core.crypto import unseal
from backend.core.i18n import T
from backend.volunteers.models import (
    ID_PURPOSE,
    CalendarFeed,
    Certificate,
    ServiceRecord,
    Signup,
    VolunteerProfile,
)
from backend.volunteers.services.signups import signup_cancel

KEPT = T(
    "服务记录、已参加的报名和证明按《志愿服务记录办法》保留，只显示假名；实名、证件号、手机、监护人信息删除。",
    "Service records, past sign-ups and certificates are kept (volunteer-record rules) under the pseudonym; "
    "real name, ID number, mobile and guardian are deleted.",
)


@personal_data.register
def volunteer_data(user: Any) -> list[DataSection]:
    profile = VolunteerProfile.objects.filter(user=user).select_related("division").first()
    records = ServiceRecord.objects.filter(user=user).select_related("organisation").order_by("-pk")
    return [
        DataSection(
            key="volunteer",
            title=T("志愿者信息", "Volunteering"),
            purpose=T(
                "志愿服务条例第七条要求实名登记；用于报名、记录时数和出具证明。",
                "Real-name registration (Volunteer Service Regulations Art. 7); sign-ups, hours and certificates.",
            ),
            data={
                "profile": _profile(profile, user) if profile else None,
                "signups": [
                    {
                        "shift_id": s.shift_id,
                        "activity": s.shift.activity.title,
                        "status": s.status,
                        "created_at": iso(s.created_at),
                    }
                    for s in Signup.objects.filter(user=user)
                    .select_related("shift__activity")
                    .order_by("-pk")
                ],
                "service_records": [
                    {
                        "organisation": r.organisation.name,
                        "date": iso(r.service_date),
                        "hours": str(r.hours),
                        "status": r.status,
                        "content": r.content,
                        "place": r.place,
                    }
                    for r in records
                ],
                "certificates": [
                    {"number": c.number, "hours": str(c.hours), "issued_at": iso(c.issued_at)}
                    for c in Certificate.objects.filter(user=user).order_by("-pk")
                ],
            },
            kept_after_cancellation=KEPT,
        )
    ]


def _profile(profile: VolunteerProfile, user: Any) -> dict[str, Any]:
    number = unseal(profile.id_number_sealed, purpose=ID_PURPOSE)
    audit_record(actor=user, action="volunteer.id_number_read", target=profile, reason="personal_data_copy")
    return {
        "volunteer_no": profile.volunteer_no,
        "real_name": profile.real_name,
        "id_type": profile.id_type,
        "id_number": number,
        "birth_date": iso(profile.birth_date),
        "gender": profile.gender,
        "mobile": profile.mobile,
        "division": profile.division.code,
        "skills": profile.skills,
        "service_categories": profile.service_categories,
        "available_times": profile.available_times,
        "guardian": {
            "name": profile.guardian_name,
            "mobile": profile.guardian_mobile,
            "relation": profile.guardian_relation,
        }
        if profile.guardian_name
        else None,
        "consents": [
            {
                "kind": c.kind,
                "version": c.version,
                "accepted_at": iso(c.accepted_at),
                "withdrawn_at": iso(c.withdrawn_at),
            }
            for c in profile.consents.order_by("pk")
        ],
    }


@account_cancelling.register
def volunteer_cancelling(user: Any) -> None:
    """Places held for the future go back to others at once; the calendar address stops."""
    CalendarFeed.objects.filter(user=user).delete()
    upcoming = Signup.objects.filter(
        user=user, status__in=Signup.ACTIVE_STATUSES, shift__starts_at__gt=timezone.now()
    ).select_related("shift")
    for signup in upcoming:
        signup_cancel(signup=signup, by=user)


@account_erasing.register
def volunteer_erasing(user: Any, pseudonym: str) -> None:
    VolunteerProfile.objects.filter(user=user).delete()  # consents with it
    Certificate.objects.filter(user=user).update(holder_name_masked=pseudonym)
