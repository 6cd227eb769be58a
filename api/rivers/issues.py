"""River issue reports and their workflow (accept, reject, assign, resolve, verify, close)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ninja import File, Router, Status
from ninja.files import UploadedFile

from api.rivers._uploads import read_photo
from api.rivers.schemas import (
    RiverIssueAssignIn,
    RiverIssueDetailOut,
    RiverIssueIn,
    RiverIssuePageOut,
    RiverIssueReasonIn,
    RiverIssueResolveIn,
    RiverIssueVerifyIn,
    RiverPhotoOut,
)
from api.schemas import ERRORS, cursor_param, errors
from api.wechat.content import CONTENT_CHECKED
from backend.rivers import selectors, services
from backend.rivers.models import RiverIssue
from backend.rivers.permissions import (
    Action,
    report_place_access,
    river_issue_access,
    river_issue_detail_access,
    river_issue_detail_for_viewer,
    river_issue_photo_for_viewer,
    river_issues_for_viewer,
)

router = Router()


@router.post("/river-issues", response={201: RiverIssueDetailOut, **ERRORS}, openapi_extra=CONTENT_CHECKED)
def issue_report(request, payload: RiverIssueIn):
    """Report a problem on a river, during a patrol or not. Photos follow with
    ``POST /river-issues/{id}/photos`` (one per request, as ``wx.uploadFile`` sends them)."""
    place = report_place_access(
        user=request.auth,
        patrol_id=payload.patrol_id,
        segment_id=payload.segment_id,
        river_id=payload.river_id,
    )
    issue = services.river_issue_report(
        reporter=request.auth,
        type=payload.type,
        lat=payload.lat,
        lon=payload.lon,
        datum=payload.datum,
        description=payload.description,
        segment=place.segment,
        river=place.river,
        patrol=place.patrol,
    )
    return Status(201, river_issue_detail_access(user=request.auth, issue_id=issue.pk))


@router.get("/river-issues", response={200: RiverIssuePageOut, **ERRORS})
def issue_list(
    request,
    scope: Literal["mine", "assigned", "division"] = "mine",
    status: str | None = None,
    cursor: str | None = cursor_param(),
    limit: int = 20,
):
    page = selectors.river_issue_list(
        user=request.auth, scope=scope, status=status, cursor=cursor, limit=limit
    )
    # A division-scoped list holds only issues the caller handles.
    river_issues_for_viewer(page.items, user=request.auth, handler=True if scope == "division" else None)
    return page


@router.get("/river-issues/{int:issue_id}", response={200: RiverIssueDetailOut, **ERRORS})
def issue_detail(request, issue_id: int):
    issue = river_issue_access(user=request.auth, issue_id=issue_id)
    return river_issue_detail_for_viewer(issue, user=request.auth)


@router.post("/river-issues/{int:issue_id}/photos", response={201: RiverPhotoOut, **errors(413, 415)})
def issue_photo(request, issue_id: int, photo: UploadedFile = File(...)):
    """The reporter's photos (before acceptance is done) or the assignee's resolution photos."""
    issue = river_issue_access(user=request.auth, issue_id=issue_id)
    stored = services.river_issue_photo_add(issue=issue, actor=request.auth, data=read_photo(photo))
    return Status(201, river_issue_photo_for_viewer(stored, user=request.auth, issue=issue))


def _step(request: Any, issue_id: int, action: Action, call: Callable[[RiverIssue], Any]) -> RiverIssue:
    """Take one workflow step on an issue the caller may see and act on; the issue as it is now."""
    call(river_issue_access(user=request.auth, issue_id=issue_id, action=action))
    return river_issue_detail_access(user=request.auth, issue_id=issue_id)


@router.post("/river-issues/{int:issue_id}/accept", response={200: RiverIssueDetailOut, **ERRORS})
def issue_accept(request, issue_id: int):
    return _step(
        request,
        issue_id,
        Action.ISSUE_DISPATCH,
        lambda i: services.river_issue_accept(issue=i, actor=request.auth),
    )


@router.post("/river-issues/{int:issue_id}/reject", response={200: RiverIssueDetailOut, **ERRORS})
def issue_reject(request, issue_id: int, payload: RiverIssueReasonIn):
    return _step(
        request,
        issue_id,
        Action.ISSUE_DISPATCH,
        lambda i: services.river_issue_reject(issue=i, actor=request.auth, reason=payload.reason),
    )


@router.post("/river-issues/{int:issue_id}/assign", response={200: RiverIssueDetailOut, **ERRORS})
def issue_assign(request, issue_id: int, payload: RiverIssueAssignIn):
    assignee = selectors.user_get(user_id=payload.assignee_id)  # not one: the service refuses it
    return _step(
        request,
        issue_id,
        Action.ISSUE_DISPATCH,
        lambda i: services.river_issue_assign(issue=i, actor=request.auth, assignee=assignee),
    )


@router.post(
    "/river-issues/{int:issue_id}/resolve",
    response={200: RiverIssueDetailOut, **ERRORS},
    openapi_extra=CONTENT_CHECKED,
)
def issue_resolve(request, issue_id: int, payload: RiverIssueResolveIn):
    return _step(
        request,
        issue_id,
        Action.ISSUE_RESOLVE,
        lambda i: services.river_issue_resolve(issue=i, actor=request.auth, resolution=payload.resolution),
    )


@router.post(
    "/river-issues/{int:issue_id}/verify",
    response={200: RiverIssueDetailOut, **ERRORS},
    openapi_extra=CONTENT_CHECKED,
)
def issue_verify(request, issue_id: int, payload: RiverIssueVerifyIn):
    return _step(
        request,
        issue_id,
        Action.ISSUE_VERIFY,
        lambda i: services.river_issue_verify(
            issue=i, actor=request.auth, confirmed=payload.confirmed, note=payload.note
        ),
    )


@router.post("/river-issues/{int:issue_id}/close", response={200: RiverIssueDetailOut, **ERRORS})
def issue_close(request, issue_id: int):
    return _step(
        request,
        issue_id,
        Action.ISSUE_DISPATCH,
        lambda i: services.river_issue_close(issue=i, actor=request.auth),
    )
