"""Reads of one filing and of the representative's filings, and the filing as the API shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from backend.accounts.models import User
from backend.core.masking import mask_phone
from backend.core.pagination import keyset_page
from backend.filings.models import Filing, FilingAttachment, FilingEvent, FilingPerson
from backend.filings.selectors._common import CLOCK_RUNNING, clock_flags, prepared, today_local


def filings_shown(*, today: date | None = None) -> QuerySet[Filing]:
    """Filings with what every view of them shows: community, group, and the clock's flags."""
    return Filing.objects.select_related("community", "group").annotate(**clock_flags(today or today_local()))


def filing_get(*, filing_id: int) -> Filing | None:
    return filings_shown().select_related("rep").filter(pk=filing_id).first()


def filing_list_for_rep(
    *, user: User, cursor: str | None = None, limit: int = 20
) -> tuple[list[Filing], str | None]:
    """The representative's filings, newest first: one page and the next page's cursor."""
    return keyset_page(filings_shown().filter(rep=user), cursor=cursor, limit=limit)


def filing_is_overdue(filing: Filing, *, today: date | None = None) -> bool:
    return (
        filing.status in CLOCK_RUNNING
        and filing.due_date is not None
        and filing.due_date < (today or today_local())
    )


def filing_persons(filing: Filing) -> list[FilingPerson]:
    return list(filing.persons.filter(superseded_at__isnull=True).order_by("position", "id"))


def filing_attachments(filing: Filing) -> list[FilingAttachment]:
    return list(filing.attachments.filter(superseded_at__isnull=True).order_by("id"))


def filing_attachment_get(*, filing: Filing, attachment_id: int) -> FilingAttachment | None:
    """Any stored file of ``filing``, removed ones included (they stay on record)."""
    return filing.attachments.filter(pk=attachment_id).first()


def filing_history(filing: Filing) -> list[FilingEvent]:
    return list(filing.events.select_related("actor").order_by("id"))


@dataclass(frozen=True)
class RosterEntry:
    """One person on a filing's roster as the API shows it: ID number and phone masked, unless
    the reviewer deciding reads them in full (``services.filing_roster_reveal``, audited)."""

    position: int
    name: str
    role: str
    id_number_masked: str
    phone_masked: str
    id_number: str = ""
    phone: str = ""

    @classmethod
    def of(cls, person: FilingPerson, *, id_number: str | None = None) -> RosterEntry:
        """The entry for ``person``; with ``id_number`` (unsealed) the full number and phone too."""
        masked = cls(
            position=person.position,
            name=person.name,
            role=person.role,
            id_number_masked=person.id_masked,
            phone_masked=mask_phone(person.phone),
        )
        if id_number is None:
            return masked
        return cls(**{**masked.__dict__, "id_number": id_number, "phone": person.phone})


def filing_detail(filing: Filing, *, roster: list[RosterEntry] | None = None) -> Filing:
    """``filing`` (from :func:`filing_get`) prepared for its detail view: ``roster`` (masked
    unless a revealed one is given), its current ``documents`` and its ``history`` with actors."""
    prefetch_related_objects(
        [filing],
        Prefetch(
            "attachments",
            queryset=FilingAttachment.objects.filter(superseded_at__isnull=True).order_by("id"),
            to_attr="documents",
        ),
        Prefetch(
            "events", queryset=FilingEvent.objects.select_related("actor").order_by("id"), to_attr="history"
        ),
    )
    if roster is None:
        roster = [RosterEntry.of(person) for person in filing_persons(filing)]
    prepared(filing, roster=roster)
    return filing
