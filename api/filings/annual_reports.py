"""Annual reports of a filed group: filed by its representative, read by it and its office."""

from __future__ import annotations

from ninja import Router, Status

from api.filings.schemas import AnnualReportIn, AnnualReportOut
from api.schemas import ERRORS
from api.wechat.content import CONTENT_CHECKED
from backend.filings import selectors, services
from backend.filings.permissions import Action, group_access

router = Router()


@router.post(
    "/orgs/{group_id}/annual-reports",
    response={201: AnnualReportOut, **ERRORS},
    openapi_extra=CONTENT_CHECKED,
)
def annual_report_create(request, group_id: int, payload: AnnualReportIn):
    """The annual report for a finished year; a late one starts removal from the abnormal list."""
    group = group_access(user=request.auth, group_id=group_id, action=Action.ORG_MANAGE)
    report = services.annual_report_submit(group=group, actor=request.auth, **payload.model_dump())
    return Status(201, report)


@router.get(
    "/orgs/{group_id}/annual-reports",
    response={200: list[AnnualReportOut], **ERRORS},
)
def annual_report_list(request, group_id: int):
    group = group_access(user=request.auth, group_id=group_id, action=Action.ORG_REPORTS_VIEW)
    return selectors.group_annual_reports(group)
