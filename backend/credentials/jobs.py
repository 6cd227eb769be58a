"""Periodic work of the credentials domain (idempotent; run by the scheduler or ``run_job``)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from backend.core.masking import mask_name
from backend.credentials import conf
from backend.credentials.lookup.log import lookup_log
from backend.credentials.models import Credential
from backend.credentials.selectors import association_admin_ids
from backend.notifications.scheduler import Job
from backend.notifications.services import notify


def credentials_expiring_notify(*, today: date | None = None) -> int:
    """Tell each association admin about every valid credential that ends within the notice
    period (default 30 days). One notice per credential, admin and end date (dedupe key), so
    running the job again, or daily, sends nothing twice; a renewed credential is announced again
    for its new end date. Returns the number of notices written."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=conf.expiry_notice_days())
    expiring = (
        Credential.objects.filter(
            status=Credential.Status.VALID, valid_until__gte=today, valid_until__lte=horizon
        )
        .select_related("practitioner")
        .order_by("association_id", "valid_until", "pk")
    )
    admins: dict[int, list[int]] = {}
    written = 0
    for credential in expiring.iterator(chunk_size=500):
        users = admins.get(credential.association_id)
        if users is None:
            users = admins[credential.association_id] = association_admin_ids(
                association_id=credential.association_id
            )
        with transaction.atomic():
            for user_id in users:
                sent = notify(
                    user=user_id,
                    kind="credential.expiring",
                    params={
                        "certificate_no": credential.certificate_no,
                        "masked_name": mask_name(credential.practitioner.name),
                        "type": credential.type,
                        "valid_until": credential.valid_until.isoformat(),
                    },
                    target=credential,
                    dedupe_key=f"credential.expiring:{credential.pk}:{credential.valid_until.isoformat()}",
                )
                written += sent is not None
    return written


def lookup_log_flush() -> int:
    """Write lookup log rows still waiting in this process (the web process flushes on its own)."""
    return lookup_log.flush()


JOBS = [
    Job(
        name="credentials.expiring_notices",
        every=timedelta(hours=6),
        func=credentials_expiring_notify,
        description="Notify association admins of credentials ending within 30 days (kind credential.expiring).",
    ),
]
