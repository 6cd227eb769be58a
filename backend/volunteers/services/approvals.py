"""Bulk decisions on service records: a coordinator approves or rejects many pending records at
once, each record on its own (one transaction per record through ``service_record_decide``), so
one refusal does not undo the others; the answer says what happened to each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.accounts.models import User
from backend.core.errors import DomainError, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.permissions import can
from backend.volunteers.models import ServiceRecord
from backend.volunteers.permissions import Action
from backend.volunteers.services._common import _now
from backend.volunteers.services.hours import service_record_decide

MAX_BULK_DECISIONS = 200


@dataclass
class RecordDecision:
    record_id: int
    ok: bool
    status: str | None = None
    code: str | None = None


def service_records_decide_bulk(
    *,
    record_ids: list[int],
    by: User,
    approve: bool,
    evaluation: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> list[RecordDecision]:
    """Approve or reject each record the caller may decide. Per record: ``not_found`` (unknown or
    not visible), ``permission_denied`` (their own hours, an escalated day), ``invalid_transition``
    (already decided), or the new status."""
    now = _now(now)
    ids = list(dict.fromkeys(record_ids))
    if not approve and not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("驳回须说明理由。", "A rejection needs a reason."))]
        )
    if not ids or len(ids) > MAX_BULK_DECISIONS:
        raise ValidationFailed(
            errors=[
                field_error(
                    "record_ids", "size", T("一次处理 1 至 200 条记录。", "Decide 1 to 200 records at once.")
                )
            ]
        )
    records = ServiceRecord.objects.in_bulk(ids)
    results = []
    for record_id in ids:
        record = records.get(record_id)
        if record is None or not can(by, Action.RECORD_VIEW, record):
            results.append(RecordDecision(record_id, False, code="not_found"))
        elif not can(by, Action.RECORD_DECIDE, record):
            results.append(RecordDecision(record_id, False, code="permission_denied"))
        else:
            try:
                decided = service_record_decide(
                    record=record, by=by, approve=approve, evaluation=evaluation, reason=reason, now=now
                )
            except DomainError as error:
                results.append(RecordDecision(record_id, False, code=error.error_code))
            else:
                results.append(RecordDecision(record_id, True, status=decided.status))
    return results
