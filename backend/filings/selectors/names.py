"""Name checks (民政部令69号): the name's own form, then whether it is taken in the jurisdiction by
a filed group, a recently given-up name, or a registered social organisation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from backend.core.i18n import T
from backend.divisions.selectors import division_ancestor_codes
from backend.filings import conf
from backend.filings.models import FormerName, Group, RegisteredOrganisation
from backend.filings.selectors._common import today_local
from backend.filings.selectors.policies import filing_policy_effective


def name_key(name: str) -> str:
    """Names compare after NFKC, without whitespace and punctuation-insensitive brackets."""
    text = unicodedata.normalize("NFKC", name or "")
    return "".join(ch for ch in text if not ch.isspace()).replace("(", "（").replace(")", "）").lower()


@dataclass(frozen=True)
class NameProblem:
    code: str
    message: T

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def name_form_problems(text: str) -> list[NameProblem]:
    """What is wrong with the name itself (length, forbidden words, organisation form), in the
    order the checks run; no database."""
    problems: list[NameProblem] = []
    if len(text) < 4:
        problems.append(
            NameProblem("name_too_short", T("名称至少 4 个字。", "A name has at least 4 characters."))
        )
    if len(text) > 50:
        problems.append(
            NameProblem("name_too_long", T("名称不超过 50 个字。", "A name has at most 50 characters."))
        )
    problems += [
        NameProblem(
            "forbidden_prefix", T(f"名称不得以“{prefix}”开头。", f"A name may not start with “{prefix}”.")
        )
        for prefix in conf.FORBIDDEN_NAME_PREFIXES
        if text.startswith(prefix)
    ]
    problems += [
        NameProblem("forbidden_word", T(f"名称不得含有“{word}”。", f"A name may not contain “{word}”."))
        for word in conf.FORBIDDEN_NAME_WORDS
        if word in text
    ]
    if text and not text.endswith(conf.ORGANISATION_FORMS):
        problems.append(
            NameProblem(
                "missing_organisation_form",
                T(
                    "名称应以组织形式结尾，如“协会”“服务队”“合唱团”。",
                    "A name ends with its organisation form, e.g. 协会, 服务队.",
                ),
            )
        )
    return problems


def _jurisdiction_q(prefix: str, column: str) -> Q:
    return Q(**{f"{column}__startswith": prefix})


def _status_problems(
    rows: Iterable[tuple[str, date | None]],
    *,
    in_force: tuple[str, ...],
    deregistered: str,
    revoked: str,
    duplicate: NameProblem,
    who: str,
    today: date,
) -> list[NameProblem]:
    """Why same-named groups or organisations block a name: one in force, one deregistered less
    than a year ago, or one revoked less than three years ago (69号令)."""
    blocked = {
        deregistered: (
            conf.name_change_block_days(),
            "name_recently_deregistered",
            T("该名称的组织注销未满 1 年。", f"{who} with this name was deregistered less than a year ago."),
        ),
        revoked: (
            conf.name_revoked_block_days(),
            "name_recently_revoked",
            T(
                "该名称的组织被撤销未满 3 年。",
                f"{who} with this name was revoked less than three years ago.",
            ),
        ),
    }
    problems = []
    for status, changed_on in rows:
        if status in in_force:
            problems.append(duplicate)
        elif status in blocked and changed_on:
            days, code, message = blocked[status]
            if changed_on > today - timedelta(days=days):
                problems.append(NameProblem(code, message))
    return problems


def _group_problems(
    key: str, jurisdiction: str, *, exclude_group_id: int | None, today: date
) -> list[NameProblem]:
    """Filed groups of the jurisdiction with this name: in force, or given up too recently."""
    groups = Group.objects.filter(name_key=key).filter(_jurisdiction_q(jurisdiction, "community__code"))
    if exclude_group_id is not None:
        groups = groups.exclude(pk=exclude_group_id)
    return _status_problems(
        groups.values_list("status", "status_changed_on"),
        in_force=(Group.Status.ACTIVE, Group.Status.EXPIRED),
        deregistered=Group.Status.DEREGISTERED,
        revoked=Group.Status.REVOKED,
        duplicate=NameProblem(
            "duplicate_name", T("本辖区已有同名的备案组织。", "A filed group in this area has this name.")
        ),
        who="A group",
        today=today,
    )


def _former_name_problems(
    key: str, jurisdiction: str, *, exclude_group_id: int | None, today: date
) -> list[NameProblem]:
    """A name another group of the jurisdiction gave up by a change less than a year ago."""
    former = FormerName.objects.filter(
        name_key=key, released_on__gt=today - timedelta(days=conf.name_change_block_days())
    ).filter(_jurisdiction_q(jurisdiction, "community_code"))
    if exclude_group_id is not None:
        former = former.exclude(group_id=exclude_group_id)
    if not former.exists():
        return []
    return [
        NameProblem(
            "name_recently_changed",
            T(
                "该名称变更未满 1 年，暂不能使用。",
                "This name was given up by a change less than a year ago.",
            ),
        )
    ]


def _registered_problems(key: str, jurisdiction: str, *, today: date) -> list[NameProblem]:
    """Registered social organisations with this name, in the jurisdiction or above it."""
    registered = RegisteredOrganisation.objects.filter(name_key=key).filter(
        Q(division_code__startswith=jurisdiction) | Q(division_code__in=division_ancestor_codes(jurisdiction))
    )
    return _status_problems(
        registered.values_list("status", "status_changed_on"),
        in_force=(RegisteredOrganisation.Status.REGISTERED,),
        deregistered=RegisteredOrganisation.Status.DEREGISTERED,
        revoked=RegisteredOrganisation.Status.REVOKED,
        duplicate=NameProblem(
            "duplicate_registered_name",
            T("已有同名的登记社会组织。", "A registered social organisation has this name."),
        ),
        who="An organisation",
        today=today,
    )


def name_check(
    *, name: str, division_code: str, exclude_group_id: int | None = None, today: date | None = None
) -> list[NameProblem]:
    """Every reason ``name`` cannot be filed in ``division_code``'s jurisdiction (empty: acceptable)."""
    today = today or today_local()
    text = unicodedata.normalize("NFKC", name or "").strip()
    problems = name_form_problems(text)
    if not text:
        return problems
    key = name_key(text)
    jurisdiction = filing_policy_effective(division_code=division_code).reviewing_division_code()
    return [
        *problems,
        *_group_problems(key, jurisdiction, exclude_group_id=exclude_group_id, today=today),
        *_former_name_problems(key, jurisdiction, exclude_group_id=exclude_group_id, today=today),
        *_registered_problems(key, jurisdiction, today=today),
    ]
