"""Approval, and what it does to the group: an initial filing becomes a group with a filing number
(unique per issuing office) and a valid-until date; a change or renewal is copied onto its group
(a name given up stays blocked for a year); a deregistration ends the group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.services import grant_role
from backend.core.audit import audit_record
from backend.core.textsearch import index_replace
from backend.filings.calendar import add_years
from backend.filings.errors import NameNotAcceptable, OrgNotActive
from backend.filings.models import Filing, FilingNumberCounter, FormerName, Group, GroupSearchToken
from backend.filings.selectors import filing_policy_effective, name_check, name_key, today_local
from backend.filings.services._common import GROUP_FIELDS, iso, params, transition
from backend.notifications.services import notify


def filing_approve(
    *,
    filing: Filing,
    actor: User,
    expected_version: int | None = None,
    note: str = "",
    today: date | None = None,
) -> Filing:
    """Approve; an initial filing becomes a group with a filing number and a valid-until date."""
    today = today or today_local()
    with transaction.atomic():
        transition(
            filing=filing,
            action="approve",
            actor=actor,
            expected_version=expected_version,
            fields={"decided_at": timezone.now(), "decided_by": actor, "reasons": []},
            note=note,
        )
        if filing.kind != Filing.Kind.DEREGISTRATION:
            _check_name_still_free(filing, today=today)
        policy = filing_policy_effective(division_code=filing.community_id)
        group = APPLY[filing.kind](
            filing=filing, actor=actor, today=today, validity_years=policy.validity_years
        )
        audit_record(
            actor=actor,
            action=f"group.{filing.kind}_approved",
            target=group,
            data={
                "filing": filing.pk,
                "filing_number": group.filing_number,
                "valid_until": iso(group.valid_until),
            },
        )
        notify(
            user=filing.rep,
            kind="filing.approved",
            params=params(filing, filing_number=group.filing_number, valid_until=iso(group.valid_until)),
            target=filing,
        )
    return filing


def _check_name_still_free(filing: Filing, *, today: date) -> None:
    """The name was checked at submission; another group may have taken it since."""
    problems = name_check(
        name=filing.name,
        division_code=filing.community_id,
        exclude_group_id=filing.group_id,
        today=today,
    )
    if problems:
        raise NameNotAcceptable(reasons=[p.as_dict() for p in problems])


def _next_filing_number(*, division_code: str, year: int) -> str:
    if not FilingNumberCounter.objects.filter(pk=division_code).exists():
        try:
            with transaction.atomic():
                FilingNumberCounter.objects.create(division_code=division_code, last=0)
        except IntegrityError:
            pass
    FilingNumberCounter.objects.filter(pk=division_code).update(last=F("last") + 1)
    last = FilingNumberCounter.objects.values_list("last", flat=True).get(pk=division_code)
    return f"{division_code}-{year}-{last:05d}"


def _locked_group(filing: Filing, *statuses: str) -> Group:
    assert filing.group_id is not None
    group = Group.objects.select_for_update().get(pk=filing.group_id)
    if group.status not in statuses:
        raise OrgNotActive(status=group.status)
    return group


def _approve_initial(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    number = _next_filing_number(division_code=filing.reviewing_division_code, year=today.year)
    group = Group.objects.create(
        **{name: getattr(filing, name) for name in GROUP_FIELDS},
        name_key=name_key(filing.name),
        community_id=filing.community_id,
        issuing_division_code=filing.reviewing_division_code,
        filing_number=number,
        rep=filing.rep,
        current_filing=filing,
        status=Group.Status.ACTIVE,
        status_changed_on=today,
        filed_on=today,
        valid_until=add_years(today, validity_years) - timedelta(days=1),
    )
    Filing.objects.filter(pk=filing.pk).update(group=group)
    filing.group = group
    group_search_index(group=group, created=True)
    grant_role(
        user=filing.rep, role=Role.GROUP_REP, scope_type=ScopeType.GROUP, scope_id=str(group.pk), by=actor
    )
    return group


def _apply_to_group(*, filing: Filing, today: date) -> Group:
    """Copy an approved change or renewal filing onto its group. Both may rename the group (a
    renewal's draft is editable like a change's), so both block the name given up for a year."""
    group = _locked_group(filing, Group.Status.ACTIVE)
    if name_key(filing.name) != group.name_key:
        FormerName.objects.create(
            group=group,
            name=group.name,
            name_key=group.name_key,
            community_code=group.community_id,
            released_on=today,
        )
    for name in GROUP_FIELDS:
        setattr(group, name, getattr(filing, name))
    group.name_key = name_key(filing.name)
    group.community_id = filing.community_id
    group.current_filing = filing
    group.version += 1
    return group


def _approve_change(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _apply_to_group(filing=filing, today=today)
    group.save()
    group_search_index(group=group)
    return group


def _approve_renewal(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _apply_to_group(filing=filing, today=today)
    group.valid_until = add_years(group.valid_until, validity_years)
    group.save()
    group_search_index(group=group)
    return group


def _approve_deregistration(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _locked_group(filing, Group.Status.ACTIVE, Group.Status.EXPIRED)
    group.status = Group.Status.DEREGISTERED
    group.status_changed_on = today
    group.status_reason = filing.statement
    group.version += 1
    group.save()
    return group


def group_search_index(*, group: Group, created: bool = False) -> None:
    """The directory's search tokens of the group's name and filing number (``/orgs?q=``)."""
    index_replace(
        token_model=GroupSearchToken,
        owner_id=group.pk,
        texts=[group.name, group.filing_number],
        created=created,
    )


# What an approved filing of each kind does to its group.
APPLY: dict[str, Callable[..., Group]] = {
    Filing.Kind.INITIAL: _approve_initial,
    Filing.Kind.CHANGE: _approve_change,
    Filing.Kind.RENEWAL: _approve_renewal,
    Filing.Kind.DEREGISTRATION: _approve_deregistration,
}
