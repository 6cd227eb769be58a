"""Service hours: my records and backfill requests, approvals, an organisation's records."""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from ninja import Router, Status

from api.schemas import ERRORS
from api.volunteers.participation_schemas import VolunteerRecordBulkDecisionIn, VolunteerRecordBulkDecisionOut
from api.volunteers.schemas import (
    BackfillRequestIn,
    OrganisationRecordPage,
    VolunteerRecordDecisionIn,
    VolunteerRecordOut,
    VolunteerRecordPage,
)
from backend.accounts.models import User
from backend.volunteers import selectors, services
from backend.volunteers.models import ServiceRecord
from backend.volunteers.permissions import Action, organisation_access, record_access

router = Router()

RecordStatus = Literal["valid", "pending", "escalated", "rejected", "refused"]


@router.get("/me/service-records", response={200: VolunteerRecordPage, **ERRORS})
def my_records(
    request, kind: Literal["recorded", "backfilled"] | None = None, cursor: str | None = None, limit: int = 20
):
    """My service records, newest first, with totals (recorded and backfilled apart) and stars."""
    return selectors.my_service_records(
        user=request.auth, kind=kind, cursor=cursor, limit=limit, with_totals=not cursor
    )


@router.post("/me/backfill-requests", response={201: VolunteerRecordOut, **ERRORS})
def backfill_request(request, payload: BackfillRequestIn):
    """Past service (补录): kept apart from recorded hours, pending the organisation's approval."""
    record = services.backfill_request_submit(user=request.auth, **payload.dict())
    return Status(201, selectors.service_record_get(record_id=record.pk))


@router.post("/service-records/{record_id}/approve", response={200: VolunteerRecordOut, **ERRORS})
def record_approve(request, record_id: int, payload: VolunteerRecordDecisionIn):
    """The organisation approves a day over 8 h or a backfill; over 12 h needs a platform admin."""
    return _decide(request.auth, record_id, payload, approve=True)


@router.post("/service-records/{record_id}/reject", response={200: VolunteerRecordOut, **ERRORS})
def record_reject(request, record_id: int, payload: VolunteerRecordDecisionIn):
    return _decide(request.auth, record_id, payload, approve=False)


@router.post("/service-records/decisions", response={200: VolunteerRecordBulkDecisionOut, **ERRORS})
def record_decide_bulk(request, payload: VolunteerRecordBulkDecisionIn):
    """Approve or reject up to 200 pending records at once (coordinators of the recording
    organisation; escalated days need a platform admin). Each record is decided on its own:
    ``results`` gives per record ``ok`` and the new ``status``, or a ``code`` (``not_found``,
    ``permission_denied``, ``invalid_transition``). Rejecting needs a ``reason`` (422)."""
    results = services.service_records_decide_bulk(
        record_ids=payload.record_ids,
        by=request.auth,
        approve=payload.decision == "approve",
        evaluation=payload.evaluation,
        reason=payload.reason,
    )
    return {"results": results}


def _decide(
    user: User, record_id: int, payload: VolunteerRecordDecisionIn, *, approve: bool
) -> ServiceRecord:
    record = record_access(user=user, record_id=record_id, action=Action.RECORD_DECIDE)
    decided = services.service_record_decide(
        record=record, by=user, approve=approve, evaluation=payload.evaluation, reason=payload.reason
    )
    return selectors.service_record_get(record_id=decided.pk)


@router.get(
    "/volunteer/organisations/{organisation_id}/service-records",
    response={200: OrganisationRecordPage, **ERRORS},
)
def org_records(
    request,
    organisation_id: int,
    status: RecordStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    return selectors.organisation_records(organisation=org, status=status, cursor=cursor, limit=limit)


@router.get(
    "/volunteer/organisations/{organisation_id}/service-records/export", response={200: None, **ERRORS}
)
def org_records_export(
    request,
    organisation_id: int,
    format: Literal["xlsx", "csv"] = "xlsx",
    status: RecordStatus | None = None,
):
    """Excel (default) or CSV of the organisation's records, personal data masked."""
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    export = services.service_records_export(organisation=org, by=request.auth, format=format, status=status)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@router.get("/volunteer/organisations/{organisation_id}/national-export", response={200: None, **ERRORS})
def org_national_export(request, organisation_id: int, format: Literal["json", "xlsx"] = "json"):
    """The organisation's volunteers and approved service records in the field set of the national
    volunteer information system standard (志愿服务信息系统基本规范), JSON (with a field legend
    and the fields Linli cannot fill) or XLSX (one sheet each, plus the missing fields). Full ID
    numbers, for matching in the national system: coordinators and platform admins; audited."""
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    export = services.national_export(organisation=org, by=request.auth, format=format)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
