"""Submission and withdrawal by the representative. Submitting checks everything at once (422
``filing_incomplete`` lists every problem), fixes the reviewing office and its time limit on the
first submission, and resumes a paused clock on a resubmission."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.errors import InvalidTransition
from backend.filings import calendar
from backend.filings.errors import FilingIncomplete
from backend.filings.models import Filing
from backend.filings.selectors import filing_check, filing_policy_effective, reviewers_for, today_local
from backend.filings.services._common import TRANSITIONS, S, iso, params, transition
from backend.notifications.services import notify


def _submission(filing: Filing, *, today: date) -> tuple[str, dict[str, Any]]:
    """The status a submission leads to and the fields it sets: the reviewing office and time
    limit of the policy on a first submission; after a correction request, the clock resumes with
    the days that were left."""
    fields: dict[str, Any] = {"submitted_at": timezone.now(), "reasons": []}
    if filing.status == S.DRAFT:
        policy = filing_policy_effective(division_code=filing.community_id)
        fields.update(
            reviewing_division_code=policy.reviewing_division_code(),
            review_days=policy.review_days,
            review_working_days=policy.review_working_days,
        )
        return S.SUBMITTED, fields
    if filing.accepted_on is None:
        return S.SUBMITTED, fields
    left = max(filing.paused_days_left or 0, 1)
    fields.update(
        due_date=calendar.add_days(today, left, working=filing.review_working_days), paused_days_left=None
    )
    return S.RESUBMITTED, fields


def filing_submit(*, filing: Filing, actor: User, today: date | None = None) -> Filing:
    """Check everything; 422 lists every problem. Fixes the reviewing division and time limit."""
    today = today or today_local()
    if filing.status not in TRANSITIONS["submit"]:
        raise InvalidTransition(action="submit", status=filing.status)
    errors = filing_check(filing=filing, today=today)
    if errors:
        raise FilingIncomplete(errors=errors)
    target, fields = _submission(filing, today=today)
    with transaction.atomic():
        transition(filing=filing, action="submit", actor=actor, target=target, fields=fields)
        kind = "filing.resubmitted" if target == S.RESUBMITTED else "filing.submitted"
        for reviewer in reviewers_for(filing.reviewing_division_code):
            notify(
                user=reviewer,
                kind=kind,
                params=params(filing, due_date=iso(filing.due_date)),
                target=filing,
            )
    return filing


def filing_withdraw(*, filing: Filing, actor: User, note: str = "") -> Filing:
    """Withdraw before a decision."""
    with transaction.atomic():
        transition(filing=filing, action="withdraw", actor=actor, note=note)
    return filing
