"""The submission check: every problem that keeps a filing from being submitted, each with its
field and code, so the representative fixes them all at once (422 ``filing_incomplete``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from backend.core.crypto import CryptoError, unseal
from backend.core.errors import field_error
from backend.core.i18n import T
from backend.core.validators import (
    InvalidIdNumber,
    InvalidPhone,
    normalize_mainland_mobile,
    parse_resident_id,
)
from backend.filings.models import Filing, FilingPerson
from backend.filings.selectors._common import ID_PURPOSE
from backend.filings.selectors.filings import filing_attachments, filing_persons
from backend.filings.selectors.names import name_check
from backend.filings.selectors.policies import EffectivePolicy, filing_policy_effective

REQUIRED_TEXT = ("name", "address", "activity_area", "purpose", "guiding_unit", "rep_name")

Problems = list[dict[str, Any]]


def filing_check(*, filing: Filing, today: date | None = None) -> Problems:
    """Every problem that keeps ``filing`` from being submitted, each with field and code."""
    if filing.kind == Filing.Kind.DEREGISTRATION:
        return check_statement(filing)
    policy = filing_policy_effective(division_code=filing.community_id)
    persons = filing_persons(filing)
    return [
        *check_required_text(filing),
        *check_name(filing, today=today),
        *check_roster_entries(persons, today=today),
        *check_roster_size(persons, policy),
        *check_attachments(filing, policy),
    ]


def check_statement(filing: Filing) -> Problems:
    """A deregistration only needs its reason."""
    if filing.statement.strip():
        return []
    return [field_error("statement", "required", T("请说明注销原因。", "Say why the group deregisters."))]


def check_required_text(filing: Filing) -> Problems:
    return [
        field_error(name, "required", T("此项必填。", "This field is required."))
        for name in REQUIRED_TEXT
        if not str(getattr(filing, name) or "").strip()
    ]


def check_name(filing: Filing, *, today: date | None) -> Problems:
    """The name rules (69号令) and the names taken in the jurisdiction; the group's own excepted."""
    if not filing.name.strip():
        return []  # reported as required
    problems = name_check(
        name=filing.name, division_code=filing.community_id, exclude_group_id=filing.group_id, today=today
    )
    if not problems:
        return []
    return [
        field_error(
            "name",
            "name_not_acceptable",
            T("名称不可用。", "The name is not acceptable."),
            reasons=[p.as_dict() for p in problems],
        )
    ]


def check_roster_entries(persons: list[FilingPerson], *, today: date | None) -> Problems:
    """Each person on the roster: a valid ID number, once only, and a valid mobile number if any."""
    errors: Problems = []
    seen: dict[str, int] = {}
    for index, person in enumerate(persons):
        where = f"persons[{index}]"
        if not _valid_id_number(person, today=today):
            errors.append(
                field_error(
                    f"{where}.id_number",
                    "invalid_id_number",
                    T("身份证号码无效：{name}", "Invalid ID number: {name}").format(name=person.name),
                )
            )
        if person.id_index in seen:
            errors.append(
                field_error(
                    f"{where}.id_number",
                    "duplicate_member",
                    T("名单中有重复人员：{name}", "This person is already on the roster: {name}").format(
                        name=person.name
                    ),
                    duplicate_of=f"persons[{seen[person.id_index]}]",
                )
            )
        else:
            seen[person.id_index] = index
        if person.phone and not _valid_mobile(person.phone):
            errors.append(
                field_error(f"{where}.phone", "invalid_phone", T("手机号码无效。", "Invalid mobile number."))
            )
    return errors


def _valid_id_number(person: FilingPerson, *, today: date | None) -> bool:
    try:
        parse_resident_id(unseal(person.id_number_sealed, purpose=ID_PURPOSE), today=today)
    except (InvalidIdNumber, CryptoError):
        return False
    return True


def _valid_mobile(phone: str) -> bool:
    try:
        normalize_mainland_mobile(phone)
    except InvalidPhone:
        return False
    return True


def check_roster_size(persons: list[FilingPerson], policy: EffectivePolicy) -> Problems:
    """The policy's minimum of members and founders, each person counted once."""
    members = len({p.id_index for p in persons})
    founders = len({p.id_index for p in persons if p.role == FilingPerson.Role.FOUNDER})
    errors: Problems = []
    if members < policy.min_members:
        errors.append(
            field_error(
                "persons",
                "too_few_members",
                T("会员不少于 {n} 人。", "At least {n} members are required.").format(n=policy.min_members),
                minimum=policy.min_members,
                actual=members,
            )
        )
    if founders < policy.min_founders:
        errors.append(
            field_error(
                "persons",
                "too_few_founders",
                T("发起人不少于 {n} 人。", "At least {n} founders are required.").format(
                    n=policy.min_founders
                ),
                minimum=policy.min_founders,
                actual=founders,
            )
        )
    return errors


def check_attachments(filing: Filing, policy: EffectivePolicy) -> Problems:
    """Every document the policy requires, among the filing's current attachments."""
    present = {a.kind for a in filing_attachments(filing)}
    return [
        field_error(
            f"attachments.{kind}",
            "missing_attachment",
            T("缺少材料：{kind}", "Missing document: {kind}").format(kind=kind),
            kind=kind,
        )
        for kind in policy.required_attachments
        if kind not in present
    ]
