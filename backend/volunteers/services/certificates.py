"""Service certificates (志愿服务证明), issued by the organisation that recorded the hours."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import unseal
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_id_number, mask_name
from backend.volunteers import proofs, selectors
from backend.volunteers.errors import NothingToCertify, RequirementsNotMet
from backend.volunteers.models import ID_PURPOSE, Certificate, Organisation, ServiceRecord, VolunteerProfile
from backend.volunteers.services._common import _local_date, _now

RECORDS_CORRECTED = "records_corrected"


def certificate_issue(*, user: User, organisation: Organisation, now: datetime | None = None) -> Certificate:
    """Issue a certificate of the approved hours this organisation recorded (谁记录谁证明)."""
    now = _now(now)
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    records = ServiceRecord.objects.filter(
        user=user, organisation=organisation, status=ServiceRecord.Status.VALID
    )
    sums = {row["kind"]: row["total"] for row in records.values("kind").annotate(total=Sum("hours"))}
    recorded = (sums.get(ServiceRecord.Kind.RECORDED) or Decimal("0")).quantize(Decimal("0.1"))
    backfilled = (sums.get(ServiceRecord.Kind.BACKFILLED) or Decimal("0")).quantize(Decimal("0.1"))
    if recorded + backfilled <= 0:
        raise NothingToCertify()
    id_masked = mask_id_number(unseal(profile.id_number_sealed, purpose=ID_PURPOSE))
    # Downloading again the same day with the same hours gives the same certificate (number,
    # verification code and signed proof) rather than a new one each time.
    same = (
        Certificate.objects.filter(
            user=user,
            organisation=organisation,
            recorded_hours=recorded,
            backfilled_hours=backfilled,
            handler=organisation.contact_name,
            holder_name_masked=mask_name(profile.real_name),
            volunteer_no=profile.volunteer_no or "",
            id_number_masked=id_masked,
            revoked_at__isnull=True,
        )
        .exclude(proof_token="")
        .order_by("-issued_at", "-id")
        .first()
    )
    if same is not None and _local_date(same.issued_at) == _local_date(now):
        return same
    contents = list(records.values_list("content", flat=True).distinct()[:20])
    with transaction.atomic():
        # Fewer hours than an earlier proof states: records were corrected, so that proof no
        # longer holds (it reads "revoked" from now on).
        _revoke_overstating(user=user, organisation=organisation, hours=recorded + backfilled, now=now)
        cert = Certificate.objects.create(
            number=f"ZYZ{now:%Y%m%d}{secrets.randbelow(10**8):08d}",
            verify_code=secrets.token_hex(10).upper(),
            user=user,
            organisation=organisation,
            hours=recorded + backfilled,
            recorded_hours=recorded,
            backfilled_hours=backfilled,
            content="；".join(c for c in contents if c)[:1000],
            handler=organisation.contact_name,
            holder_name_masked=mask_name(profile.real_name),
            volunteer_no=profile.volunteer_no or "",
            id_type=profile.get_id_type_display(),
            id_number_masked=id_masked,
        )
        cert.proof_token = proofs.proof_sign(cert)
        cert.save(update_fields=["proof_token"])
        audit_record(
            actor=user,
            action="certificate.issued",
            target=cert,
            data={"org": organisation.pk, "hours": str(cert.hours)},
        )
    return cert


def _revoke_overstating(*, user: User, organisation: Organisation, hours: Decimal, now: datetime) -> None:
    overstating = Certificate.objects.filter(
        user=user, organisation=organisation, revoked_at__isnull=True, hours__gt=hours
    )
    for cert in overstating.select_for_update():
        _revoke(cert=cert, by=None, reason=RECORDS_CORRECTED, now=now)


def _revoke(*, cert: Certificate, by: User | None, reason: str, now: datetime) -> None:
    cert.revoked_at, cert.revoked_by, cert.revoked_reason = now, by, reason[:200]
    cert.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    audit_record(
        actor=by,
        action="certificate.revoked",
        target=cert,
        data={"org": cert.organisation_id, "number": cert.number},
        reason=reason,
    )


def certificate_revoke(
    *, certificate: Certificate, by: User, reason: str, now: datetime | None = None
) -> Certificate:
    """Revoke a certificate and its signed proof (e.g. after its records were corrected): its QR
    page reads "revoked" at once; offline checks still see a genuine signature (revocation is
    online only). Coordinators of the issuing organisation and platform admins (the rule)."""
    now = _now(now)
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("撤销须说明理由。", "A revocation needs a reason."))]
        )
    with transaction.atomic():
        current = (
            Certificate.objects.select_for_update().select_related("organisation").get(pk=certificate.pk)
        )
        if current.revoked_at is not None:
            raise InvalidTransition(
                T("该证明已撤销。", "This certificate is already revoked."), status="revoked"
            )
        _revoke(cert=current, by=by, reason=reason.strip(), now=now)
    return current


def certificate_request(
    *, user: User, organisation_id: int | None = None, now: datetime | None = None
) -> Certificate:
    """The certificate a volunteer asks for: issued by the one organisation that recorded their
    approved hours, or by the one they name when there are several (``certificate_issue``)."""
    organisation = _certifying_organisation(user=user, organisation_id=organisation_id)
    return certificate_issue(user=user, organisation=organisation, now=now)


def _certifying_organisation(*, user: User, organisation_id: int | None) -> Organisation:
    """The organisation that certifies: the one named, if it recorded approved hours of the user,
    or the only one that did; with several and none named the volunteer must choose."""
    organisations = selectors.record_organisations(user=user)
    if organisation_id is not None:
        chosen = next((o for o in organisations if o.pk == organisation_id), None)
        if chosen is None:
            raise NothingToCertify()
        return chosen
    if not organisations:
        raise NothingToCertify()
    if len(organisations) > 1:
        raise ValidationFailed(
            errors=[
                field_error(
                    "organisation_id",
                    "required",
                    T("请选择出具证明的组织。", "Choose the organisation that issues the certificate."),
                    choices=[o.pk for o in organisations],
                )
            ]
        )
    return organisations[0]
