"""Reads of the filings domain: effective policy, name check, submission check, queues, directory."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from backend.accounts.models import Grant, Role, ScopeType, User
from backend.accounts.selectors import user_is_platform_admin, user_scope_ids
from backend.core.crypto import CryptoError, unseal
from backend.core.errors import field_error
from backend.core.i18n import T
from backend.core.pagination import keyset_page
from backend.core.validators import (
    InvalidIdNumber,
    InvalidPhone,
    normalize_mainland_mobile,
    parse_resident_id,
)
from backend.divisions.selectors import division_ancestor_codes
from backend.filings import conf
from backend.filings.models import (
    CreditListing,
    Filing,
    FilingAttachment,
    FilingPerson,
    FilingPolicy,
    FormerName,
    Group,
    RegisteredOrganisation,
)

ID_PURPOSE = "filings.person.id_number"
OPEN_STATUSES = (
    Filing.Status.DRAFT,
    Filing.Status.SUBMITTED,
    Filing.Status.ACCEPTED,
    Filing.Status.CORRECTION_REQUESTED,
    Filing.Status.RESUBMITTED,
)
CLOCK_RUNNING = (Filing.Status.ACCEPTED, Filing.Status.RESUBMITTED)


def today_local() -> date:
    return timezone.localdate()


# --- policy -------------------------------------------------------------------------------------

POLICY_FIELDS = tuple(conf.DEFAULT_POLICY)


@dataclass(frozen=True)
class EffectivePolicy:
    division_code: str
    min_founders: int
    min_members: int
    required_attachments: list[str]
    review_days: int
    review_working_days: bool
    validity_years: int
    renewal_window_days: int
    reviewing_level: str
    annual_report_due_month: int
    annual_report_due_day: int
    # Which division set each value ("" = the national default).
    sources: dict[str, str] = field(default_factory=dict)

    def reviewing_division_code(self) -> str:
        """The division whose reviewers decide: the street (9 digits) or the district (6)."""
        return self.division_code[: 9 if self.reviewing_level == "street" else 6]

    def annual_report_deadline(self, year: int) -> date:
        """The last day to file the report for ``year`` (in the following year)."""
        month, day = self.annual_report_due_month, self.annual_report_due_day
        try:
            return date(year + 1, month, day)
        except ValueError:  # e.g. 29 February in a common year
            return date(year + 1, month, 28)


def filing_policy_effective(*, division_code: str) -> EffectivePolicy:
    """The policy for a division: each field from the nearest division up the tree that sets it."""
    codes = division_ancestor_codes(division_code)
    rows = {p.division_id: p for p in FilingPolicy.objects.filter(division_id__in=codes)}
    values: dict[str, Any] = dict(conf.default_policy())
    sources = dict.fromkeys(values, "")
    for code in codes:  # from the province down: deeper divisions override
        policy = rows.get(code)
        if policy is None:
            continue
        for name in POLICY_FIELDS:
            value = getattr(policy, name)
            if value is None or value == "":
                continue
            values[name] = value
            sources[name] = code
    return EffectivePolicy(division_code=division_code, sources=sources, **values)


# --- names --------------------------------------------------------------------------------------


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


def name_check(
    *, name: str, division_code: str, exclude_group_id: int | None = None, today: date | None = None
) -> list[NameProblem]:
    """Every reason ``name`` cannot be filed in ``division_code``'s jurisdiction (empty: acceptable)."""
    today = today or today_local()
    problems: list[NameProblem] = []
    text = unicodedata.normalize("NFKC", name or "").strip()
    if len(text) < 4:
        problems.append(
            NameProblem("name_too_short", T("名称至少 4 个字。", "A name has at least 4 characters."))
        )
    if len(text) > 50:
        problems.append(
            NameProblem("name_too_long", T("名称不超过 50 个字。", "A name has at most 50 characters."))
        )
    for prefix in conf.FORBIDDEN_NAME_PREFIXES:
        if text.startswith(prefix):
            problems.append(
                NameProblem(
                    "forbidden_prefix",
                    T(f"名称不得以“{prefix}”开头。", f"A name may not start with “{prefix}”."),
                )
            )
    for word in conf.FORBIDDEN_NAME_WORDS:
        if word in text:
            problems.append(
                NameProblem(
                    "forbidden_word", T(f"名称不得含有“{word}”。", f"A name may not contain “{word}”.")
                )
            )
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
    if not text:
        return problems
    key = name_key(text)
    jurisdiction = filing_policy_effective(division_code=division_code).reviewing_division_code()
    groups = Group.objects.filter(name_key=key).filter(_jurisdiction_q(jurisdiction, "community__code"))
    if exclude_group_id is not None:
        groups = groups.exclude(pk=exclude_group_id)
    problems += _status_problems(
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
    former = FormerName.objects.filter(
        name_key=key, released_on__gt=today - timedelta(days=conf.name_change_block_days())
    ).filter(_jurisdiction_q(jurisdiction, "community_code"))
    if exclude_group_id is not None:
        former = former.exclude(group_id=exclude_group_id)
    if former.exists():
        problems.append(
            NameProblem(
                "name_recently_changed",
                T(
                    "该名称变更未满 1 年，暂不能使用。",
                    "This name was given up by a change less than a year ago.",
                ),
            )
        )
    registered = RegisteredOrganisation.objects.filter(name_key=key).filter(
        Q(division_code__startswith=jurisdiction) | Q(division_code__in=division_ancestor_codes(jurisdiction))
    )
    problems += _status_problems(
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
    return problems


# --- filings ------------------------------------------------------------------------------------


def filing_persons(filing: Filing) -> list[FilingPerson]:
    return list(filing.persons.filter(superseded_at__isnull=True).order_by("position", "id"))


def filing_attachments(filing: Filing) -> list[FilingAttachment]:
    return list(filing.attachments.filter(superseded_at__isnull=True).order_by("id"))


REQUIRED_TEXT = ("name", "address", "activity_area", "purpose", "guiding_unit", "rep_name")


def filing_check(*, filing: Filing, today: date | None = None) -> list[dict[str, Any]]:
    """Every problem that keeps ``filing`` from being submitted, each with field and code."""
    errors: list[dict[str, Any]] = []
    policy = filing_policy_effective(division_code=filing.community_id)
    if filing.kind == Filing.Kind.DEREGISTRATION:
        if not filing.statement.strip():
            errors.append(
                field_error("statement", "required", T("请说明注销原因。", "Say why the group deregisters."))
            )
        return errors
    for name in REQUIRED_TEXT:
        if not str(getattr(filing, name) or "").strip():
            errors.append(field_error(name, "required", T("此项必填。", "This field is required.")))
    if filing.name.strip():
        problems = name_check(
            name=filing.name, division_code=filing.community_id, exclude_group_id=filing.group_id, today=today
        )
        if problems:
            errors.append(
                field_error(
                    "name",
                    "name_not_acceptable",
                    T("名称不可用。", "The name is not acceptable."),
                    reasons=[p.as_dict() for p in problems],
                )
            )
    persons = filing_persons(filing)
    seen: dict[str, int] = {}
    for index, person in enumerate(persons):
        where = f"persons[{index}]"
        try:
            number = unseal(person.id_number_sealed, purpose=ID_PURPOSE)
            parse_resident_id(number, today=today)
        except (InvalidIdNumber, CryptoError):
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
        if person.phone:
            try:
                normalize_mainland_mobile(person.phone)
            except InvalidPhone:
                errors.append(
                    field_error(
                        f"{where}.phone", "invalid_phone", T("手机号码无效。", "Invalid mobile number.")
                    )
                )
    members = len(seen)
    founders = len({p.id_index for p in persons if p.role == FilingPerson.Role.FOUNDER})
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
    present = {a.kind for a in filing_attachments(filing)}
    for kind in policy.required_attachments:
        if kind not in present:
            errors.append(
                field_error(
                    f"attachments.{kind}",
                    "missing_attachment",
                    T("缺少材料：{kind}", "Missing document: {kind}").format(kind=kind),
                    kind=kind,
                )
            )
    return errors


def filing_get(*, filing_id: int) -> Filing | None:
    return Filing.objects.select_related("community", "group", "rep").filter(pk=filing_id).first()


def filing_list_for_rep(
    *, user: User, cursor: str | None = None, limit: int = 20
) -> tuple[list[Filing], str | None]:
    """The representative's filings, newest first: one page and the next page's cursor."""
    qs = Filing.objects.select_related("community", "group").filter(rep=user)
    return keyset_page(qs, cursor=cursor, limit=limit)


def reviewer_scope_q(user: User, column: str = "reviewing_division_code") -> Q | None:
    """Rows a reviewer may see: ``None`` means everything (platform admin), an empty Q none."""
    if user_is_platform_admin(user):
        return None
    scopes = user_scope_ids(user, Role.REVIEWER, ScopeType.DIVISION)
    q = Q(pk__in=[])
    for scope in scopes:
        q |= Q(**{f"{column}__startswith": scope})
    return q


def filing_review_queryset(*, user: User) -> QuerySet[Filing]:
    qs = Filing.objects.exclude(status=Filing.Status.DRAFT).exclude(reviewing_division_code="")
    scope = reviewer_scope_q(user)
    return qs if scope is None else qs.filter(scope)


def filing_review_list(
    *,
    user: User,
    status: str | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: int = 20,
    today: date | None = None,
) -> tuple[list[Filing], str | None]:
    today = today or today_local()
    qs = filing_review_queryset(user=user).select_related("community", "group", "rep")
    if status:
        qs = qs.filter(status=status)
    if overdue is True:
        qs = qs.filter(status__in=CLOCK_RUNNING, due_date__lt=today)
    elif overdue is False:
        qs = qs.exclude(status__in=CLOCK_RUNNING, due_date__lt=today)
    return keyset_page(qs, cursor=cursor, limit=limit)


def filing_is_overdue(filing: Filing, *, today: date | None = None) -> bool:
    return (
        filing.status in CLOCK_RUNNING
        and filing.due_date is not None
        and filing.due_date < (today or today_local())
    )


def filing_history(filing: Filing) -> list:
    return list(filing.events.select_related("actor").order_by("id"))


def reviewers_for(division_code: str) -> list[User]:
    """Reviewers who may decide filings of ``division_code`` (its own and every division above)."""
    codes = division_ancestor_codes(division_code)
    ids = (
        Grant.objects.filter(role=Role.REVIEWER, scope_type=ScopeType.DIVISION, scope_id__in=codes)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=ids, is_active=True))


# --- groups -------------------------------------------------------------------------------------


def group_directory(
    *,
    q: str = "",
    division: str = "",
    category: str = "",
    cursor: str | None = None,
    limit: int = 20,
) -> tuple[list[Group], str | None]:
    open_listing = CreditListing.objects.filter(group=OuterRef("pk"), removed_on__isnull=True)
    qs = Group.objects.select_related("community").annotate(
        on_abnormal_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.ABNORMAL)),
        on_serious_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.SERIOUS)),
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(filing_number__icontains=q))
    if division:
        qs = qs.filter(community__code__startswith=division)
    if category:
        qs = qs.filter(category=category)
    return keyset_page(qs, cursor=cursor, limit=limit)


def group_list_for_rep(*, user: User) -> list[Group]:
    scoped = [int(x) for x in user_scope_ids(user, Role.GROUP_REP, ScopeType.GROUP) if x.isdigit()]
    open_listing = CreditListing.objects.filter(group=OuterRef("pk"), removed_on__isnull=True)
    return list(
        Group.objects.select_related("community")
        .annotate(
            on_abnormal_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.ABNORMAL)),
            on_serious_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.SERIOUS)),
        )
        .filter(Q(rep=user) | Q(pk__in=scoped))
        .order_by("-id")
    )


def group_get(*, group_id: int) -> Group | None:
    open_listing = CreditListing.objects.filter(group=OuterRef("pk"), removed_on__isnull=True)
    return (
        Group.objects.select_related("community", "current_filing")
        .annotate(
            on_abnormal_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.ABNORMAL)),
            on_serious_list=Exists(open_listing.filter(list_kind=CreditListing.ListKind.SERIOUS)),
        )
        .filter(pk=group_id)
        .first()
    )


def group_open_filing(group: Group) -> Filing | None:
    return group.filings.filter(status__in=OPEN_STATUSES).order_by("-id").first()


def group_listings(group: Group) -> list[CreditListing]:
    return list(group.credit_listings.order_by("-listed_on", "-id"))


def group_founders(group: Group) -> list[FilingPerson]:
    if group.current_filing_id is None:
        return []
    return [
        p
        for p in FilingPerson.objects.filter(filing_id=group.current_filing_id, superseded_at__isnull=True)
        if p.role == FilingPerson.Role.FOUNDER
    ]


def listing_get(*, listing_id: int) -> CreditListing | None:
    return CreditListing.objects.select_related("group").filter(pk=listing_id).first()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    import calendar as _calendar

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))
