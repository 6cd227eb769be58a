"""The representative's filings: draft, edit, check, submit, withdraw."""

from __future__ import annotations

from ninja import Query, Router, Status

from api.filings._common import filing_fresh
from api.filings.schemas import FilingCheckOut, FilingIn, FilingOut, FilingPage, FilingPatch
from api.schemas import ERRORS, cursor_param
from api.wechat.content import CONTENT_CHECKED
from backend.filings import selectors, services
from backend.filings.models import Filing
from backend.filings.permissions import Action, filing_access

router = Router()


def _detail(filing_id: int) -> Filing:
    """The filing as it is now, prepared for the representative's view (roster masked)."""
    return selectors.filing_detail(filing_fresh(filing_id))


@router.post(
    "/filings",
    response={201: FilingOut, **ERRORS},
    operation_id="api_filings_filing_create",
    openapi_extra=CONTENT_CHECKED,
)
def filing_create(request, payload: FilingIn):
    """Start a draft filing of a new community group."""
    filing = services.filing_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _detail(filing.pk))


@router.get("/filings", response={200: FilingPage, **ERRORS}, operation_id="api_filings_filing_list")
def filing_list(request, cursor: str | None = cursor_param(), limit: int = Query(20, ge=1, le=100)):
    """The signed-in representative's filings, newest first."""
    items, next_cursor = selectors.filing_list_for_rep(user=request.auth, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/filings/{filing_id}", response={200: FilingOut, **ERRORS}, operation_id="api_filings_filing_detail"
)
def filing_detail(request, filing_id: int):
    """Status, due date, reasons and the full history; the roster masked."""
    return selectors.filing_detail(filing_access(user=request.auth, filing_id=filing_id))


@router.patch(
    "/filings/{filing_id}",
    response={200: FilingOut, **ERRORS},
    operation_id="api_filings_filing_update",
    openapi_extra=CONTENT_CHECKED,
)
def filing_update(request, filing_id: int, payload: FilingPatch):
    """Change a draft or a filing waiting for corrections; ``persons`` replaces the roster."""
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    data = {
        k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "persons"
    }
    services.filing_update(filing=filing, actor=request.auth, data=data)
    return _detail(filing_id)


@router.get(
    "/filings/{filing_id}/check",
    response={200: FilingCheckOut, **ERRORS},
)
def filing_check(request, filing_id: int):
    """What submission would refuse, without submitting."""
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    problems = selectors.filing_check(filing=filing)
    return {"ok": not problems, "problems": problems}


@router.post(
    "/filings/{filing_id}/submit",
    response={200: FilingOut, **ERRORS},
)
def filing_submit(request, filing_id: int):
    """Check everything and submit; 422 ``filing_incomplete`` lists every problem with field and code."""
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    services.filing_submit(filing=filing, actor=request.auth)
    return _detail(filing_id)


@router.post(
    "/filings/{filing_id}/withdraw",
    response={200: FilingOut, **ERRORS},
)
def filing_withdraw(request, filing_id: int):
    """Withdraw before a decision."""
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    services.filing_withdraw(filing=filing, actor=request.auth)
    return _detail(filing_id)
