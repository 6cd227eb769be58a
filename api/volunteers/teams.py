"""Teams (志愿服务队) and team sign-ups: ``/volunteer/teams…``, ``/me/teams``,
``/shifts/{id}/team-signups``. A member joins only by accepting the leader's invitation."""

from __future__ import annotations

from ninja import Router, Status

from api.schemas import ERRORS
from api.volunteers.participation_schemas import (
    TeamSignupIn,
    TeamSignupOut,
    VolunteerTeamIn,
    VolunteerTeamInviteIn,
    VolunteerTeamListOut,
    VolunteerTeamMemberOut,
    VolunteerTeamOut,
    VolunteerTeamRespondIn,
)
from backend.volunteers import selectors, services
from backend.volunteers.permissions import Action, team_access

router = Router()


@router.post("/volunteer/teams", response={201: VolunteerTeamOut, **ERRORS})
def team_create(request, payload: VolunteerTeamIn):
    """A registered volunteer founds a team and leads it."""
    team = services.team_create(leader=request.auth, name=payload.name)
    return Status(201, selectors.team_get(team_id=team.pk))


@router.get("/me/teams", response={200: VolunteerTeamListOut, **ERRORS})
def my_teams(request):
    """Teams I lead, belong to, or am invited to (my own row says ``invited``)."""
    return {"items": selectors.teams_of(user=request.auth)}


@router.get("/volunteer/teams/{team_id}", response={200: VolunteerTeamOut, **ERRORS})
def team_detail(request, team_id: int):
    return team_access(user=request.auth, team_id=team_id)


@router.post("/volunteer/teams/{team_id}/invitations", response={201: VolunteerTeamMemberOut, **ERRORS})
def team_invite(request, team_id: int, payload: VolunteerTeamInviteIn):
    """The leader invites a volunteer by volunteer number; they join only by accepting."""
    team = team_access(user=request.auth, team_id=team_id, action=Action.TEAM_LEAD)
    member = services.team_invite(team=team, by=request.auth, volunteer_no=payload.volunteer_no)
    return Status(201, member)


@router.post("/volunteer/teams/{team_id}/membership", response={200: VolunteerTeamMemberOut, **ERRORS})
def team_respond(request, team_id: int, payload: VolunteerTeamRespondIn):
    """The invited volunteer accepts (``{"accept": true}``) or declines the invitation."""
    team = team_access(user=request.auth, team_id=team_id)
    return services.team_membership_respond(team=team, user=request.auth, accept=payload.accept)


@router.delete("/volunteer/teams/{team_id}/membership", response={200: VolunteerTeamMemberOut, **ERRORS})
def team_leave(request, team_id: int):
    """A member leaves the team (places already taken stay theirs)."""
    team = team_access(user=request.auth, team_id=team_id)
    return services.team_leave(team=team, user=request.auth)


@router.post("/shifts/{shift_id}/team-signups", response={200: TeamSignupOut, **ERRORS})
def team_signup(request, shift_id: int, payload: TeamSignupIn):
    """The leader signs up team members (all active members, or ``user_ids``) in one request.
    ``mode=all`` (default): everyone gets a place or nobody (409 ``team_signup_failed``, per-member
    results in ``details.results``); ``mode=partial``: per-member ``results``. Each member passes
    the single sign-up's checks (age, skills, overlap, bans, consent) and capacity is taken the
    same way; ``waitlist=true`` lets members be waitlisted when places run out."""
    team = team_access(user=request.auth, team_id=payload.team_id, action=Action.TEAM_LEAD)
    results = services.team_shift_signup(
        team=team,
        by=request.auth,
        shift_id=shift_id,
        user_ids=payload.user_ids,
        partial=payload.mode == "partial",
        waitlist=payload.waitlist,
    )
    return {"results": results}
