"""Staff-kept reference data: filing policies per division, and the registered social
organisations name checks compare against. Every change is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings import conf
from backend.filings.models import AttachmentKind, FilingPolicy, RegisteredOrganisation
from backend.filings.selectors import name_key


def unknown_attachment_kinds(value: Any) -> list[str] | None:
    """``None`` when ``value`` is a list of attachment kinds, else the unknown kinds it names
    (none for a value that is not a list at all)."""
    if not isinstance(value, list):
        return []
    return [k for k in value if k not in AttachmentKind.values] or None


def filing_policy_save(*, policy: FilingPolicy, actor: User | None) -> FilingPolicy:
    """Policies are changed by staff in the admin; every change is audited."""
    if policy.required_attachments is not None:
        unknown = unknown_attachment_kinds(policy.required_attachments)
        if unknown is not None:
            raise ValidationFailed(
                errors=[
                    field_error(
                        "required_attachments",
                        "invalid_choice",
                        T("材料类型无效。", "Unknown kinds."),
                        unknown=unknown,
                    )
                ]
            )
    with transaction.atomic():
        policy.full_clean()
        policy.save()
        audit_record(
            actor=actor,
            action="filing_policy.saved",
            target=policy,
            data={name: getattr(policy, name) for name in conf.DEFAULT_POLICY},
        )
    return policy


def registered_organisation_save(
    *, organisation: RegisteredOrganisation, actor: User | None
) -> RegisteredOrganisation:
    """Staff keep the registered organisations that name checks compare against."""
    with transaction.atomic():
        organisation.name_key = name_key(organisation.name)
        organisation.save()
        audit_record(
            actor=actor,
            action="registered_organisation.saved",
            target=organisation,
            data={"name": organisation.name, "status": organisation.status},
        )
    return organisation
