"""Set-up helpers for the filings tests: build state through the real services."""

from __future__ import annotations

from datetime import date

from backend.filings import services
from backend.filings.models import Group
from backend.filings.selectors import name_key
from backend.filings.services.approval import group_search_index
from tests.filings.conftest import COMMUNITY, PDF, REQUIRED_KINDS, filing_payload, roster


def submitted(
    rep, *, name: str = "民治社区夕阳红合唱团", community: str = COMMUNITY, start: int = 1, today=None
):
    filing = services.filing_create(
        actor=rep, data=filing_payload(name=name, community=community, persons=roster(start=start))
    )
    for kind in REQUIRED_KINDS:
        services.filing_attachment_add(filing=filing, actor=rep, kind=kind, content=PDF)
    services.filing_submit(filing=filing, actor=rep, today=today)
    return filing


def approved_group(
    rep,
    reviewer,
    *,
    name: str = "民治社区夕阳红合唱团",
    community: str = COMMUNITY,
    start: int = 1,
    today=None,
) -> Group:
    filing = submitted(rep, name=name, community=community, start=start, today=today)
    services.filing_accept(filing=filing, actor=reviewer, today=today)
    services.filing_approve(filing=filing, actor=reviewer, today=today)
    return Group.objects.get(pk=filing.group_id)


def bare_group(
    rep,
    *,
    name: str,
    community: str = COMMUNITY,
    status: str = "active",
    changed_on: date | None = None,
    number: str = "",
) -> Group:
    """A group row without its filing history, for name-check and directory tests (indexed for
    the directory search as the approval service indexes it)."""
    group = Group.objects.create(
        name=name,
        name_key=name_key(name),
        category="culture_sports",
        community_id=community,
        issuing_division_code=community[:9],
        filing_number=number or f"T-{name}",
        address="地址",
        activity_area="社区",
        purpose="宗旨",
        guiding_unit="社区党委",
        rep_name="李四五",
        rep=rep,
        status=status,
        status_changed_on=changed_on,
        filed_on=date(2025, 1, 1),
        valid_until=date(2027, 12, 31),
    )
    group_search_index(group=group, created=True)
    return group
