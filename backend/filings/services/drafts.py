"""The representative's draft of an initial filing: fields, community and roster. Only the fields
are checked here; everything else at submission (``selectors.filing_check``)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.crypto import blind_index, normalize_for_index, seal
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_id_number
from backend.core.validators import InvalidPhone, normalize_mainland_mobile
from backend.divisions.models import Division
from backend.filings.errors import InvalidDivision
from backend.filings.models import Filing, FilingPerson
from backend.filings.selectors import ID_PURPOSE
from backend.filings.services._common import EDITABLE, FILING_FIELDS, S, bump, record, texts_check


def _community(code: str) -> Division:
    division = Division.objects.filter(code=code, level=Division.Level.COMMUNITY).first()
    if division is None:
        raise InvalidDivision(
            errors=[
                field_error(
                    "community", "invalid_division", T("请选择有效的社区。", "Choose a valid community.")
                )
            ]
        )
    return division


def _community_for(filing: Filing, code: str) -> Division:
    """The community a filing may move to: any while it is a first draft; once a reviewing office
    is fixed (at submission) or the group has an issuing office, one inside that office's area, so
    the office that reviews, numbers and later supervises the group stays the one it lies in."""
    community = _community(code)
    offices = [filing.reviewing_division_code, filing.group.issuing_division_code if filing.group else ""]
    office = next((o for o in offices if o and not community.code.startswith(o)), None)
    if community.code != filing.community_id and office is not None:
        raise ValidationFailed(
            errors=[
                field_error(
                    "community",
                    "community_outside_jurisdiction",
                    T(
                        "新社区须在原审核机关辖区内；迁往其他辖区请撤回申请（已备案组织请注销）后在新辖区重新备案。",
                        "The new community must lie in the reviewing office's area; to move elsewhere, "
                        "withdraw (or deregister a filed group) and file there.",
                    ),
                    jurisdiction=office,
                )
            ]
        )
    return community


def _clean_persons(persons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roster entries as stored: ID numbers sealed with a blind index; checked at submission."""
    rows = []
    for index, person in enumerate(persons):
        number = normalize_for_index(str(person["id_number"]))
        phone = str(person.get("phone") or "").strip()
        with contextlib.suppress(InvalidPhone):  # kept as typed; submission reports invalid_phone
            phone = normalize_mainland_mobile(phone) if phone else ""
        rows.append(
            {
                "position": index,
                "name": str(person["name"]).strip(),
                "role": person["role"],
                "id_number_sealed": seal(number, purpose=ID_PURPOSE),
                "id_index": blind_index(number, purpose=ID_PURPOSE),
                "id_masked": mask_id_number(number),
                "phone": phone,
            }
        )
    return rows


def _replace_persons(*, filing: Filing, persons: list[dict[str, Any]]) -> None:
    now = timezone.now()
    FilingPerson.objects.filter(filing=filing, superseded_at__isnull=True).update(superseded_at=now)
    FilingPerson.objects.bulk_create(FilingPerson(filing=filing, **row) for row in _clean_persons(persons))


def filing_create(*, actor: User, data: dict[str, Any]) -> Filing:
    """A new draft of an initial filing; only fields are checked here, the rest at submission."""
    community = _community(data["community"])
    checked = texts_check(actor=actor, fields=data)
    with transaction.atomic():
        filing = Filing.objects.create(
            kind=Filing.Kind.INITIAL,
            rep=actor,
            community=community,
            **{name: data[name] for name in FILING_FIELDS if name in data},
        )
        checked.attach(filing)
        if data.get("persons"):
            _replace_persons(filing=filing, persons=data["persons"])
        record(filing=filing, actor=actor, action="created", to_status=S.DRAFT)
    return filing


def filing_update(*, filing: Filing, actor: User, data: dict[str, Any]) -> Filing:
    """Change a draft, or a filing waiting for corrections. ``persons`` replaces the roster."""
    fields = {name: data[name] for name in FILING_FIELDS if name in data}
    if filing.kind == Filing.Kind.DEREGISTRATION:
        fields = {k: v for k, v in fields.items() if k == "statement"}
    if "community" in data and filing.kind != Filing.Kind.DEREGISTRATION:
        fields["community"] = _community_for(filing, data["community"])
    checked = texts_check(actor=actor, fields=fields)
    with transaction.atomic():
        bump(filing=filing, allowed=EDITABLE, action="update", fields=fields)
        checked.attach(filing)
        if "persons" in data and data["persons"] is not None and filing.kind != Filing.Kind.DEREGISTRATION:
            _replace_persons(filing=filing, persons=data["persons"])
        changed = sorted([*fields, *(["persons"] if "persons" in data else [])])
        record(
            filing=filing, actor=actor, action="updated", note=", ".join(changed), data={"fields": changed}
        )
    return filing
