"""The reviewer's decisions before approval: accept (受理, the clock starts), request corrections
(一次性告知, the clock pauses), reject with reasons; the audited read of the full roster; the
reviewers' due-date warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import CryptoError, unseal
from backend.filings import calendar
from backend.filings.models import Filing
from backend.filings.selectors import (
    ID_PURPOSE,
    RosterEntry,
    filing_detail,
    filing_persons,
    today_local,
)
from backend.filings.services._common import S, check_reasons, iso, params, reasons_text, transition
from backend.notifications.services import notify


def decide(
    *,
    filing: Filing,
    action: str,
    actor: User,
    expected_version: int | None,
    fields: dict[str, Any],
    kind: str,
    notice: dict[str, Any],
    reasons: list[dict[str, str]] | None = None,
) -> Filing:
    """A reviewer's step on the state machine, and the representative's notice of it, at once."""
    with transaction.atomic():
        transition(
            filing=filing,
            action=action,
            actor=actor,
            expected_version=expected_version,
            fields=fields,
            reasons=reasons,
        )
        notify(user=filing.rep, kind=kind, params=params(filing, **notice), target=filing)
    return filing


def filing_accept(
    *, filing: Filing, actor: User, expected_version: int | None = None, today: date | None = None
) -> Filing:
    """受理: the materials are complete; the review clock starts today."""
    today = today or today_local()
    due = calendar.add_days(today, filing.review_days or 0, working=filing.review_working_days)
    return decide(
        filing=filing,
        action="accept",
        actor=actor,
        expected_version=expected_version,
        fields={"accepted_on": today, "due_date": due},
        kind="filing.accepted",
        notice={"due_date": iso(due)},
    )


def filing_request_correction(
    *,
    filing: Filing,
    actor: User,
    reasons: list[dict[str, str]],
    expected_version: int | None = None,
    today: date | None = None,
) -> Filing:
    """一次性告知: every field to correct with its reason. The clock (if started) pauses."""
    today = today or today_local()
    reasons = check_reasons(reasons, per_field=True)
    fields: dict[str, Any] = {"reasons": reasons}
    if filing.due_date is not None and filing.status in (S.ACCEPTED, S.RESUBMITTED):
        fields["paused_days_left"] = calendar.days_between(
            today, filing.due_date, working=filing.review_working_days
        )
        fields["due_date"] = None
    return decide(
        filing=filing,
        action="request_correction",
        actor=actor,
        expected_version=expected_version,
        fields=fields,
        reasons=reasons,
        kind="filing.correction_requested",
        notice={"reasons": reasons_text(reasons)},
    )


def filing_reject(
    *,
    filing: Filing,
    actor: User,
    reasons: list[dict[str, str]],
    expected_version: int | None = None,
) -> Filing:
    """Refusal in writing with reasons."""
    reasons = check_reasons(reasons, per_field=False)
    return decide(
        filing=filing,
        action="reject",
        actor=actor,
        expected_version=expected_version,
        fields={"reasons": reasons, "decided_at": timezone.now(), "decided_by": actor},
        reasons=reasons,
        kind="filing.rejected",
        notice={"reasons": reasons_text(reasons)},
    )


def filing_roster_reveal(*, filing: Filing, actor: User) -> list[RosterEntry]:
    """The roster with full ID numbers and phones, for the reviewer deciding; every read is audited."""
    persons = filing_persons(filing)
    roster = [RosterEntry.of(person, id_number=_unsealed(person.id_number_sealed)) for person in persons]
    audit_record(
        actor=actor,
        action="filing.roster_viewed",
        target=filing,
        data={"persons": [p.pk for p in persons]},
    )
    return roster


def _unsealed(sealed: str) -> str:
    try:
        return unseal(sealed, purpose=ID_PURPOSE)
    except CryptoError:
        return ""


def filing_detail_reveal(*, filing: Filing, actor: User) -> Filing:
    """``filing`` prepared for the reviewer's detail view: the full roster (read audited)."""
    return filing_detail(filing, roster=filing_roster_reveal(filing=filing, actor=actor))


def filing_due_notify(*, filing: Filing, reviewers: list[User], today: date | None = None) -> int:
    """Warn the reviewers of a filing due soon, or flag it overdue; once per due date."""
    today = today or today_local()
    if filing.due_date is None:
        return 0
    overdue = filing.due_date < today
    kind = "filing.overdue" if overdue else "filing.due_soon"
    sent = 0
    with transaction.atomic():
        for reviewer in reviewers:
            note = notify(
                user=reviewer,
                kind=kind,
                params=params(filing, due_date=iso(filing.due_date)),
                target=filing,
                urgent=overdue,
                dedupe_key=f"{kind}:{filing.pk}:{iso(filing.due_date)}",
            )
            sent += note is not None
    return sent
