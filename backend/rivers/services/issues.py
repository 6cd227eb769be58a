"""River issue reports and their workflow: report → accepted → assigned → resolved (with a
photo) → verified (or sent back to assigned) → closed; rejected from reported or accepted.

The steps follow ``backend.rivers.models.ISSUE_WORKFLOW``, each a conditional UPDATE on the
statuses it may start from, so two handlers cannot both take one step. Each step is audited and
tells whoever acts next (notifications in the same transaction, delivered after commit).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.selectors import user_reviews_division
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.notifications.services import notify
from backend.rivers import conf, selectors
from backend.rivers.errors import NotAHandler, ResolutionNeedsPhoto, SegmentHasNoGeometry
from backend.rivers.geo import to_wgs84
from backend.rivers.models import ISSUE_WORKFLOW, Patrol, River, RiverIssue, RiverPhoto, RiverSegment
from backend.rivers.services._common import check_datum, clean_text, invalid, local
from backend.wechat.services.security import Scene, text_check


def _issue_params(issue: RiverIssue, **extra: Any) -> dict[str, Any]:
    return {
        "type_label": issue.get_type_display(),
        "river": issue.river.name,
        "segment": issue.segment.name,
        "due": local(issue.due_at),
        **extra,
    }


# -- reporting -----------------------------------------------------------------------------------


def _check_report(*, type: str, lat: float, lon: float, datum: str) -> None:
    if type not in RiverIssue.Type.values:
        raise invalid("type", "invalid_choice", T("不是允许的问题类型。", "Not an allowed issue type."))
    check_datum(datum)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise invalid("lat", "invalid", T("位置无效。", "Invalid location."))


def _report_segment(
    *,
    reporter: Any,
    lat: float,
    lon: float,
    segment: RiverSegment | None,
    river: River | None,
    patrol: Patrol | None,
) -> RiverSegment:
    """The patrol's segment, the segment given, or the river's segment nearest the (WGS-84)
    location."""
    if patrol is not None:
        if patrol.user_id != reporter.pk:
            raise NotFound()
        return patrol.segment
    if segment is not None:
        return segment
    if river is None:
        raise ValidationFailed(
            errors=[
                field_error("segment_id", "required", T("请指定河段或河流。", "Give a segment or a river."))
            ]
        )
    nearest = selectors.nearest_segment(river=river, lat=lat, lon=lon)
    if nearest is None:
        raise SegmentHasNoGeometry()
    return nearest


def river_issue_report(
    *,
    reporter: Any,
    type: str,
    lat: float,
    lon: float,
    description: str,
    datum: str = "wgs84",
    segment: RiverSegment | None = None,
    river: River | None = None,
    patrol: Patrol | None = None,
    now: datetime | None = None,
) -> RiverIssue:
    """Report a problem, during a patrol (``patrol``), on a known segment, or on a river (the
    nearest segment to the location is taken)."""
    now = now or timezone.now()
    _check_report(type=type, lat=lat, lon=lon, datum=datum)
    description = clean_text(description, "description", max_length=2000)
    wlat, wlon = to_wgs84(lat, lon, datum)
    segment = _report_segment(
        reporter=reporter, lat=wlat, lon=wlon, segment=segment, river=river, patrol=patrol
    )
    checked = text_check(author=reporter, texts={"description": description}, scene=Scene.FORUM)
    with transaction.atomic():
        issue = RiverIssue.objects.create(
            river_id=segment.river_id,
            segment=segment,
            division_id=segment.division_id,
            patrol=patrol,
            type=type,
            lat=round(wlat, 7),
            lon=round(wlon, 7),
            description=description,
            reporter=reporter,
            reported_at=now,
            due_at=now + timedelta(days=conf.issue_sla_days()[type]),
        )
        issue = RiverIssue.objects.select_related("river", "segment").get(pk=issue.pk)
        checked.attach(issue)
        audit_record(
            actor=reporter,
            action="river_issue.reported",
            target=issue,
            data={"type": type, "segment": segment.pk, "patrol": getattr(patrol, "pk", None)},
        )
        for handler_id in selectors.division_handler_ids(division_code=issue.division_id):
            notify(user=handler_id, kind="river_issue.reported", params=_issue_params(issue), target=issue)
    return issue


# -- the workflow --------------------------------------------------------------------------------


def _transition(
    issue: RiverIssue,
    *,
    step: str,
    actor: Any,
    fields: dict[str, Any],
    action: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> RiverIssue:
    """Take one step of ``ISSUE_WORKFLOW`` with a conditional UPDATE (two handlers cannot both
    take one step)."""
    allowed_from, to = ISSUE_WORKFLOW[step]
    updated = RiverIssue.objects.filter(pk=issue.pk, status__in=list(allowed_from)).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not updated:
        raise InvalidTransition(status=issue.status)
    issue.refresh_from_db()
    audit_record(actor=actor, action=action, target=issue, reason=reason, data={"status": to, **(data or {})})
    return issue


def _step_telling_reporter(
    issue: RiverIssue,
    *,
    step: str,
    actor: Any,
    action: str,
    fields: dict[str, Any],
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> RiverIssue:
    """A handler's step whose notice goes to the reporter (the kind is the audit action)."""
    with transaction.atomic():
        _transition(issue, step=step, actor=actor, action=action, reason=reason, fields=fields)
        notify(
            user=issue.reporter_id, kind=action, params=_issue_params(issue, **(params or {})), target=issue
        )
    return issue


def river_issue_accept(*, issue: RiverIssue, actor: Any) -> RiverIssue:
    return _step_telling_reporter(
        issue,
        step="accept",
        actor=actor,
        action="river_issue.accepted",
        fields={"accepted_by": actor, "accepted_at": timezone.now()},
    )


def river_issue_reject(*, issue: RiverIssue, actor: Any, reason: str) -> RiverIssue:
    reason = clean_text(reason, "reason", max_length=1000)
    return _step_telling_reporter(
        issue,
        step="reject",
        actor=actor,
        action="river_issue.rejected",
        reason=reason,
        fields={"rejected_reason": reason, "rejected_at": timezone.now()},
        params={"reason": reason},
    )


def river_issue_assign(*, issue: RiverIssue, actor: Any, assignee: Any) -> RiverIssue:
    """Hand an accepted issue to a handler of its division (re-assigning an assigned one is fine)."""
    if assignee is None or not assignee.is_active or not user_reviews_division(assignee, issue.division_id):
        raise NotAHandler(field="assignee_id")
    with transaction.atomic():
        previous = issue.assignee_id
        _transition(
            issue,
            step="assign",
            actor=actor,
            action="river_issue.assigned",
            data={"assignee": assignee.pk, "previous": previous},
            fields={"assignee": assignee, "assigned_by": actor, "assigned_at": timezone.now()},
        )
        notify(
            user=assignee, kind="river_issue.assigned", params=_issue_params(issue), target=issue, urgent=True
        )
    return issue


def river_issue_resolve(*, issue: RiverIssue, actor: Any, resolution: str) -> RiverIssue:
    """The assignee reports the fix; at least one resolution photo must have been uploaded."""
    resolution = clean_text(resolution, "resolution", max_length=2000)
    checked = text_check(author=actor, texts={"resolution": resolution}, scene=Scene.COMMENT)
    with transaction.atomic():
        if not issue.photos.filter(role=RiverPhoto.Role.RESOLUTION).exists():
            raise ResolutionNeedsPhoto()
        checked.attach(issue)
        _transition(
            issue,
            step="resolve",
            actor=actor,
            action="river_issue.resolved",
            fields={"resolution": resolution, "resolved_at": timezone.now()},
        )
        verifiers = {issue.reporter_id, *selectors.segment_river_chief_ids(segment_id=issue.segment_id)}
        for user_id in sorted(verifiers):
            notify(
                user=user_id,
                kind="river_issue.resolved",
                params=_issue_params(issue, resolution=resolution[:100]),
                target=issue,
            )
    return issue


def _verified(issue: RiverIssue, *, actor: Any, note: str) -> None:
    _transition(
        issue,
        step="verify",
        actor=actor,
        action="river_issue.verified",
        reason=note,
        fields={"verified_by": actor, "verified_at": timezone.now()},
    )
    recipients = {issue.assignee_id, *selectors.division_handler_ids(division_code=issue.division_id)}
    for user_id in sorted(u for u in recipients if u and u != actor.pk):
        notify(user=user_id, kind="river_issue.verified", params=_issue_params(issue), target=issue)


def _reopened(issue: RiverIssue, *, actor: Any, note: str) -> None:
    _transition(
        issue,
        step="reopen",
        actor=actor,
        action="river_issue.reopened",
        reason=note,
        fields={"resolved_at": None},
    )
    if issue.assignee_id:
        notify(
            user=issue.assignee_id,
            kind="river_issue.reopened",
            params=_issue_params(issue, note=note),
            target=issue,
            urgent=True,
        )


def river_issue_verify(*, issue: RiverIssue, actor: Any, confirmed: bool, note: str = "") -> RiverIssue:
    """The reporter or a river chief confirms the fix (→ verified) or sends it back (→ assigned)."""
    note = clean_text(note, "note", max_length=1000, required=not confirmed)
    checked = text_check(author=actor, texts={"note": note}, scene=Scene.COMMENT)
    with transaction.atomic():
        checked.attach(issue)
        if confirmed:
            _verified(issue, actor=actor, note=note)
        else:
            _reopened(issue, actor=actor, note=note)
    return issue


def river_issue_close(*, issue: RiverIssue, actor: Any) -> RiverIssue:
    return _step_telling_reporter(
        issue,
        step="close",
        actor=actor,
        action="river_issue.closed",
        fields={"closed_at": timezone.now()},
    )


def river_issues_flag_overdue(*, now: datetime | None = None) -> int:
    """Flag open issues past their SLA date, once each, and tell whoever holds them."""
    now = now or timezone.now()
    flagged = 0
    late = RiverIssue.objects.filter(
        status__in=RiverIssue.OPEN_STATUSES, due_at__lt=now, overdue_at__isnull=True
    ).select_related("river", "segment")
    for issue in late.order_by("id"):
        with transaction.atomic():
            if not RiverIssue.objects.filter(pk=issue.pk, overdue_at__isnull=True).update(overdue_at=now):
                continue
            audit_record(
                actor=None,
                action="river_issue.overdue",
                target=issue,
                data={"due_at": issue.due_at.isoformat()},
            )
            recipients = (
                [issue.assignee_id]
                if issue.assignee_id
                else selectors.division_handler_ids(division_code=issue.division_id)
            )
            for user_id in recipients:
                notify(
                    user=user_id,
                    kind="river_issue.overdue",
                    params=_issue_params(issue),
                    target=issue,
                    dedupe_key=f"river_issue.overdue:{issue.pk}",
                )
            flagged += 1
    return flagged
