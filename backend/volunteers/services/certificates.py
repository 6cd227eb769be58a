"""Service certificates (志愿服务证明), issued by the organisation that recorded the hours."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.masking import mask_name
from backend.volunteers.errors import NothingToCertify, RequirementsNotMet
from backend.volunteers.models import (
    Certificate,
    Organisation,
    ServiceRecord,
    VolunteerProfile,
)
from backend.volunteers.services._common import (
    _local_date,
    _now,
)


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
    # Downloading again the same day with the same hours gives the same certificate (number and
    # verification code) rather than a new one each time.
    same = (
        Certificate.objects.filter(
            user=user,
            organisation=organisation,
            recorded_hours=recorded,
            backfilled_hours=backfilled,
            handler=organisation.contact_name,
            holder_name_masked=mask_name(profile.real_name),
            volunteer_no=profile.volunteer_no or "",
        )
        .order_by("-issued_at", "-id")
        .first()
    )
    if same is not None and _local_date(same.issued_at) == _local_date(now):
        return same
    contents = list(records.values_list("content", flat=True).distinct()[:20])
    with transaction.atomic():
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
        )
        audit_record(
            actor=user,
            action="certificate.issued",
            target=cert,
            data={"org": organisation.pk, "hours": str(cert.hours)},
        )
    return cert
