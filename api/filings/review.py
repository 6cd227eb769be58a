"""The reviewers' queue and decisions: accept (受理), request corrections, approve, reject. Every
view a reviewer gets shows the full roster, and every such read is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja import Query, Router

from api.filings._common import choice, filing_fresh
from api.filings.schemas import FilingPage, FilingReasonsIn, ReviewFilingOut
from api.schemas import ERRORS, cursor_param
from backend.filings import selectors, services
from backend.filings.models import Filing
from backend.filings.permissions import Action, filing_access

router = Router()


@router.get("/review/filings", response={200: FilingPage, **ERRORS}, operation_id="api_filings_review_list")
def review_list(
    request,
    status: str | None = None,
    overdue: bool | None = None,
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
):
    """Filings of the reviewer's jurisdiction; ``overdue=true`` for those past their due date."""
    items, next_cursor = selectors.filing_review_list(
        user=request.auth,
        status=choice(status or "", field="status", allowed=Filing.Status.values),
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "next_cursor": next_cursor}


def _reviewed(request, filing_id: int) -> Filing:
    return filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_REVIEW)


@router.get(
    "/review/filings/{filing_id}",
    response={200: ReviewFilingOut, **ERRORS},
)
def review_detail(request, filing_id: int):
    """The filing with its full roster (ID numbers and phones); the read is audited."""
    return services.filing_detail_reveal(filing=_reviewed(request, filing_id), actor=request.auth)


def _decide(request, filing_id: int, decide: Callable[[Filing], Any]) -> Filing:
    """Authorise, decide, and show the reviewer the filing as it is now."""
    decide(_reviewed(request, filing_id))
    return services.filing_detail_reveal(filing=filing_fresh(filing_id), actor=request.auth)


@router.post(
    "/review/filings/{filing_id}/accept",
    response={200: ReviewFilingOut, **ERRORS},
)
def review_accept(request, filing_id: int, version: int | None = Query(None, ge=1)):
    """受理: the clock starts; the due date counts the policy's (working) days. ``?version=`` makes
    the decision conditional on the version the reviewer saw."""
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_accept(filing=f, actor=request.auth, expected_version=version),
    )


@router.post(
    "/review/filings/{filing_id}/request-correction",
    response={200: ReviewFilingOut, **ERRORS},
)
def review_request_correction(request, filing_id: int, payload: FilingReasonsIn):
    """Ask for corrections, one reason per field; the clock pauses until the resubmission."""
    reasons = [r.model_dump() for r in payload.reasons]
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_request_correction(
            filing=f, actor=request.auth, reasons=reasons, expected_version=payload.version
        ),
    )


@router.post(
    "/review/filings/{filing_id}/approve",
    response={200: ReviewFilingOut, **ERRORS},
)
def review_approve(request, filing_id: int, version: int | None = Query(None, ge=1)):
    """Approve: issues the filing number (unique per issuing division) and the valid-until date."""
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_approve(filing=f, actor=request.auth, expected_version=version),
    )


@router.post(
    "/review/filings/{filing_id}/reject",
    response={200: ReviewFilingOut, **ERRORS},
)
def review_reject(request, filing_id: int, payload: FilingReasonsIn):
    """Refuse in writing; reasons are required."""
    reasons = [r.model_dump() for r in payload.reasons]
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_reject(
            filing=f, actor=request.auth, reasons=reasons, expected_version=payload.version
        ),
    )
