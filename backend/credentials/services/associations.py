"""Industry associations: registered by platform admins, edited by their own admins."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import InvalidUscc, parse_uscc
from backend.credentials.errors import AssociationNameTaken
from backend.credentials.models import Association
from backend.credentials.services._common import clean_text, optional_text, required_text

_FIELDS = ("name", "short_name", "uscc", "contact_phone")


def _association_fields(*, name: Any, short_name: Any, uscc: Any, contact_phone: Any) -> dict[str, str]:
    errors: list[dict] = []
    out = {
        "name": required_text(errors, "name", clean_text(name), 100),
        "short_name": optional_text(errors, "short_name", clean_text(short_name), 30),
        "uscc": clean_text(uscc).upper(),
        "contact_phone": optional_text(errors, "contact_phone", clean_text(contact_phone), 20),
    }
    if out["uscc"]:
        try:
            out["uscc"] = parse_uscc(out["uscc"]).code
        except InvalidUscc as exc:
            errors.append(
                field_error(
                    "uscc", exc.code, T("统一社会信用代码无效。", "Invalid unified social credit code.")
                )
            )
    if errors:
        raise ValidationFailed(errors=errors)
    return out


def association_create(
    *, actor: Any, name: str, short_name: str = "", uscc: str = "", contact_phone: str = ""
) -> Association:
    fields = _association_fields(name=name, short_name=short_name, uscc=uscc, contact_phone=contact_phone)
    with transaction.atomic():
        if Association.objects.filter(name=fields["name"]).exists():
            raise AssociationNameTaken()
        association = Association.objects.create(**fields)
        audit_record(actor=actor, action="association.create", target=association, data=fields)
    return association


def association_update(*, actor: Any, association: Association, **changes: Any) -> Association:
    current = {k: getattr(association, k) for k in _FIELDS}
    fields = _association_fields(**{**current, **{k: v for k, v in changes.items() if v is not None}})
    with transaction.atomic():
        if Association.objects.filter(name=fields["name"]).exclude(pk=association.pk).exists():
            raise AssociationNameTaken()
        changed = {k: v for k, v in fields.items() if current[k] != v}
        if changed:
            Association.objects.filter(pk=association.pk).update(**changed)
            for k, v in changed.items():
                setattr(association, k, v)
            audit_record(actor=actor, action="association.update", target=association, data=changed)
    return association
