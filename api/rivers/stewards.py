"""Stewards: 河小二 teams, assignments of river chiefs and teams to segments, overdue segments."""

from __future__ import annotations

from ninja import Router, Status

from api.rivers.schemas import (
    OverdueSegmentOut,
    StewardAssignmentIn,
    StewardAssignmentOut,
    StewardTeamIn,
    StewardTeamMemberIn,
    StewardTeamOut,
    StewardTeamRespondIn,
)
from api.schemas import ERRORS, OkOut
from backend.core.errors import NotFound
from backend.rivers import selectors, services
from backend.rivers.permissions import (
    active_user_access,
    organisation_access,
    overdue_scope,
    segment_access,
    segment_assignments_scope,
    steward_assignment_access,
    steward_team_access,
    steward_team_of,
)

router = Router()


@router.post("/rivers/teams", response={201: StewardTeamOut, **ERRORS})
def team_create(request, payload: StewardTeamIn):
    org = organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    team = services.steward_team_create(actor=request.auth, organisation=org, name=payload.name)
    return Status(201, team)


@router.get("/rivers/teams", response={200: list[StewardTeamOut], **ERRORS})
def team_list(request, organisation_id: int):
    org = organisation_access(user=request.auth, organisation_id=organisation_id)
    return selectors.team_list(organisation_ids=[org.pk])


@router.post("/rivers/teams/{int:team_id}/members", response={200: StewardTeamOut, **ERRORS})
def team_member_add(request, team_id: int, payload: StewardTeamMemberIn):
    """Invite a registered volunteer: listed under ``invited`` until they accept
    (``POST /rivers/teams/{team_id}/membership``)."""
    team = steward_team_access(user=request.auth, team_id=team_id)
    user = active_user_access(user_id=payload.user_id)
    services.steward_team_member_add(actor=request.auth, team=team, user=user)
    return selectors.steward_team_with_members(team_id=team.pk)


@router.post("/rivers/teams/{int:team_id}/membership", response={200: OkOut, **ERRORS})
def team_membership_respond(request, team_id: int, payload: StewardTeamRespondIn):
    """The invited volunteer accepts (``{"accept": true}``: a member from now on, patrolling the
    team's segments) or declines. A coordinator's ``POST …/members`` only invites."""
    team = _found_team(team_id)
    services.steward_team_membership_respond(team=team, user=request.auth, accept=payload.accept)
    return {"ok": True}


@router.delete("/rivers/teams/{int:team_id}/members/{int:user_id}", response={200: OkOut, **ERRORS})
def team_member_remove(request, team_id: int, user_id: int):
    team = steward_team_access(user=request.auth, team_id=team_id)
    user = active_user_access(user_id=user_id)
    services.steward_team_member_remove(actor=request.auth, team=team, user=user)
    return {"ok": True}


@router.post("/rivers/segments/{int:segment_id}/assignments", response={201: StewardAssignmentOut, **ERRORS})
def assignment_create(request, segment_id: int, payload: StewardAssignmentIn):
    """A coordinator assigns a volunteer river chief or a 河小二 team of their organisation."""
    segment = segment_access(user=request.auth, segment_id=segment_id)
    org = organisation_access(user=request.auth, organisation_id=payload.organisation_id)
    team = steward_team_of(organisation=org, team_id=payload.team_id) if payload.team_id is not None else None
    user = active_user_access(user_id=payload.user_id) if payload.user_id is not None else None
    assignment = services.steward_assign(
        actor=request.auth, segment=segment, organisation=org, kind=payload.kind, user=user, team=team
    )
    return Status(201, selectors.steward_assignment_get(assignment_id=assignment.pk))


@router.get(
    "/rivers/segments/{int:segment_id}/assignments", response={200: list[StewardAssignmentOut], **ERRORS}
)
def assignment_list(request, segment_id: int):
    """Live stewards of a segment: all of them for its division's staff, else the caller's
    organisations' ones."""
    segment = segment_access(user=request.auth, segment_id=segment_id)
    organisation_ids = segment_assignments_scope(user=request.auth, segment=segment)
    return selectors.assignment_list(segment=segment, organisation_ids=organisation_ids)


@router.post("/rivers/assignments/{int:assignment_id}/end", response={200: StewardAssignmentOut, **ERRORS})
def assignment_end(request, assignment_id: int):
    assignment = steward_assignment_access(user=request.auth, assignment_id=assignment_id)
    return services.steward_assignment_end(actor=request.auth, assignment=assignment)


@router.get("/rivers/assignments/mine", response={200: list[StewardAssignmentOut], **ERRORS})
def my_assignments(request):
    """The segments the caller may patrol: as river chief or through a team."""
    return selectors.steward_assignments_of(user=request.auth)


@router.get("/rivers/segments/overdue", response={200: list[OverdueSegmentOut], **ERRORS})
def segments_overdue(request, organisation_id: int | None = None):
    """Segments of the caller's organisations with no valid patrol within their frequency."""
    organisation_ids = overdue_scope(user=request.auth, organisation_id=organisation_id)
    return selectors.segments_overdue(organisation_ids=organisation_ids)


def _found_team(team_id: int):
    team = selectors.steward_team_get(team_id=team_id)
    if team is None:
        raise NotFound()
    return team
