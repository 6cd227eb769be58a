"""A practitioner's standing: credit records (commendations, training, complaints, violations)
and the blacklist. A listed practitioner's badges all read ``blacklisted`` until it is lifted."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.credentials.errors import BlacklistEntryLifted, PractitionerBlacklisted
from backend.credentials.models import BlacklistEntry, CreditRecord, Practitioner
from backend.credentials.services._common import actor_user, clean_text, reason_text, required_text


def credit_record_add(
    *, actor: Any, practitioner: Practitioner, date: date, kind: str, text: str
) -> CreditRecord:
    errors: list[dict] = []
    if kind not in CreditRecord.Kind.values:
        errors.append(field_error("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice.")))
    body = required_text(errors, "text", clean_text(text), 2000)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        record = CreditRecord.objects.create(
            practitioner=practitioner, date=date, kind=kind, text=body, created_by=actor_user(actor)
        )
        audit_record(
            actor=actor,
            action="credit_record.add",
            target=record,
            data={"practitioner_id": practitioner.pk, "kind": kind, "date": date.isoformat()},
        )
    return record


def practitioner_blacklist(
    *, actor: Any, practitioner: Practitioner, listed_on: date, reason: str, basis: str
) -> BlacklistEntry:
    """List a practitioner: every credential of theirs shows ``blacklisted`` from now on."""
    text = reason_text(reason)
    errors: list[dict] = []
    basis_text = required_text(errors, "basis", clean_text(basis), 200)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        if BlacklistEntry.objects.filter(practitioner=practitioner, lifted_at__isnull=True).exists():
            raise PractitionerBlacklisted()
        try:
            with transaction.atomic():
                entry = BlacklistEntry.objects.create(
                    practitioner=practitioner,
                    listed_on=listed_on,
                    reason=text,
                    basis=basis_text,
                    created_by=actor_user(actor),
                )
        except IntegrityError:
            raise PractitionerBlacklisted() from None
        audit_record(
            actor=actor,
            action="practitioner.blacklist",
            target=entry,
            data={
                "practitioner_id": practitioner.pk,
                "listed_on": listed_on.isoformat(),
                "basis": basis_text,
            },
            reason=text,
        )
    return entry


def blacklist_lift(*, actor: Any, entry: BlacklistEntry, reason: str) -> BlacklistEntry:
    text = reason_text(reason)
    with transaction.atomic():
        now = timezone.now()
        if not BlacklistEntry.objects.filter(pk=entry.pk, lifted_at__isnull=True).update(
            lifted_at=now, lift_reason=text
        ):
            raise BlacklistEntryLifted()
        audit_record(
            actor=actor,
            action="practitioner.blacklist_lift",
            target=entry,
            data={"practitioner_id": entry.practitioner_id},
            reason=text,
        )
    entry.lifted_at, entry.lift_reason = now, text
    return entry
