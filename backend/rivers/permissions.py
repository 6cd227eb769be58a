"""Who may do what in the rivers domain, and what each one sees.

Roles (reusing the foundation's ``Role`` values, no new role):
- division staff (``reviewer`` grants, scope ``division``, nesting by code prefix) manage rivers,
  segments and patrol policies of their division, and are the *handlers* of river issues there:
  they accept, reject, assign (to one of themselves) and close issues, and see photo evidence;
- coordinators (``coordinator`` grants, scope ``organisation``) form 河小二 teams, assign stewards
  to segments for their organisation, see its patrols and its overdue segments;
- stewards (volunteer river chiefs and members of assigned teams) patrol their segments; a river
  chief of a segment also verifies resolved issues there;
- anyone signed in may report an issue; the reporter follows it and verifies its resolution.
Platform admins pass every rule (``backend.core.permissions``).

Below the rules: fetch-and-authorize helpers, one call per endpoint (``NotFound`` for what the
caller must not know about, ``PermissionDenied`` where the object is public or their own), and
the "who sees what" of an issue (the reporter's contact, photo evidence, the next steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_has_role, user_reviews_division, user_scope_ids
from backend.core.errors import NotFound
from backend.core.masking import mask_name, mask_phone
from backend.core.permissions import authorize, can, rule
from backend.divisions.models import Division
from backend.divisions.selectors import division_get
from backend.rivers import selectors
from backend.rivers.models import (
    ISSUE_WORKFLOW,
    Patrol,
    River,
    RiverIssue,
    RiverPhoto,
    RiverSegment,
    StewardAssignment,
    StewardTeam,
)
from backend.volunteers.models import Organisation


class Action(StrEnum):
    RIVER_MANAGE = "river.manage"
    STEWARD_MANAGE = "river.steward_manage"
    COORDINATE = "river.coordinate"
    PATROL_RECORD = "patrol.record"
    PATROL_VIEW = "patrol.view"
    ISSUE_VIEW = "river_issue.view"
    ISSUE_DISPATCH = "river_issue.dispatch"
    ISSUE_RESOLVE = "river_issue.resolve"
    ISSUE_VERIFY = "river_issue.verify"
    ISSUE_EVIDENCE = "river_issue.evidence"


def _org_id(obj: Any) -> str:
    return str(getattr(obj, "pk", obj))


def user_coordinates(user: Any, organisation: Any) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=_org_id(organisation)
    )


def user_coordinated_organisation_ids(user: Any) -> list[int]:
    return [int(s) for s in user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION) if s.isdigit()]


# -- rules ---------------------------------------------------------------------------------------


@rule(Action.RIVER_MANAGE)
def river_manage(user: Any, division_code: Any) -> bool:
    """Division staff manage rivers, segments and policies of their division (and below)."""
    return isinstance(division_code, str) and user_reviews_division(user, division_code)


@rule(Action.STEWARD_MANAGE)
def steward_manage(user: Any, organisation: Any) -> bool:
    return organisation is not None and user_coordinates(user, organisation)


@rule(Action.COORDINATE)
def coordinate(user: Any, obj: Any) -> bool:
    return bool(user_coordinated_organisation_ids(user))


@rule(Action.PATROL_RECORD)
def patrol_record(user: Any, patrol: Any) -> bool:
    return patrol.user_id == user.pk


@rule(Action.PATROL_VIEW)
def patrol_view(user: Any, patrol: Any) -> bool:
    """Tracks are sensitive (PIPL): the patroller and the recording organisation's coordinators."""
    return patrol.user_id == user.pk or user_coordinates(user, patrol.organisation_id)


def _is_river_chief(user: Any, segment_id: int) -> bool:
    return selectors.user_is_river_chief(user=user, segment_id=segment_id)


@rule(Action.ISSUE_VIEW)
def issue_view(user: Any, issue: Any) -> bool:
    return (
        issue.reporter_id == user.pk
        or issue.assignee_id == user.pk
        or user_reviews_division(user, issue.division_id)
        or _is_river_chief(user, issue.segment_id)
    )


@rule(Action.ISSUE_DISPATCH)
def issue_dispatch(user: Any, issue: Any) -> bool:
    """Accept, reject, assign and close: the handlers of the issue's division."""
    return user_reviews_division(user, issue.division_id)


@rule(Action.ISSUE_RESOLVE)
def issue_resolve(user: Any, issue: Any) -> bool:
    return issue.assignee_id is not None and issue.assignee_id == user.pk


@rule(Action.ISSUE_VERIFY)
def issue_verify(user: Any, issue: Any) -> bool:
    return issue.reporter_id == user.pk or _is_river_chief(user, issue.segment_id)


@rule(Action.ISSUE_EVIDENCE)
def issue_evidence(user: Any, issue: Any) -> bool:
    """The GPS position from a photo's EXIF: the division's handlers only."""
    return user_reviews_division(user, issue.division_id)


#: The workflow steps a client takes (one endpoint each), in the order they are offered, and the
#: action that guards each. The ``verify`` endpoint also reopens (``ISSUE_WORKFLOW["reopen"]``).
ISSUE_STEP_ACTIONS: dict[str, Action] = {
    "accept": Action.ISSUE_DISPATCH,
    "reject": Action.ISSUE_DISPATCH,
    "assign": Action.ISSUE_DISPATCH,
    "resolve": Action.ISSUE_RESOLVE,
    "verify": Action.ISSUE_VERIFY,
    "close": Action.ISSUE_DISPATCH,
}


# -- fetch and authorize -------------------------------------------------------------------------


_T = TypeVar("_T")


def _found(obj: _T | None) -> _T:
    if obj is None:
        raise NotFound()
    return obj


def division_manage_check(*, user: Any, division_codes: list[str] | str) -> None:
    """Rivers, segments and policies are managed by the staff of each division they touch (403)."""
    for code in [division_codes] if isinstance(division_codes, str) else division_codes:
        authorize(user, Action.RIVER_MANAGE, code, hide=False)


def division_access(*, division_code: str) -> Division:
    """An existing division (any signed-in user may read its patrol policy)."""
    return _found(division_get(division_code))


def river_access(*, river_id: int, detail: bool = False) -> River:
    """A river (public), with its segments when ``detail``."""
    if detail:
        return _found(selectors.river_detail_get(river_id=river_id))
    return _found(selectors.river_get(river_id=river_id))


def segment_access(*, user: Any, segment_id: int, action: Action | None = None) -> RiverSegment:
    """A segment (public); with ``action``, one ``user`` may take on its division (403)."""
    segment = _found(selectors.segment_get(segment_id=segment_id))
    if action is not None:
        authorize(user, action, segment.division_id, hide=False)
    return segment


def organisation_access(
    *, user: Any, organisation_id: int, action: Action = Action.STEWARD_MANAGE
) -> Organisation:
    """An organisation whose stewards ``user`` manages (404 if it does not exist, 403 if not theirs)."""
    organisation = _found(selectors.organisation_get(organisation_id=organisation_id))
    authorize(user, action, organisation, hide=False)
    return organisation


def steward_team_access(*, user: Any, team_id: int) -> StewardTeam:
    """A team of an organisation ``user`` coordinates (404 otherwise)."""
    team = _found(selectors.steward_team_get(team_id=team_id))
    authorize(user, Action.STEWARD_MANAGE, team.organisation_id)
    return team


def steward_team_of(*, organisation: Organisation, team_id: int) -> StewardTeam:
    """A team of this organisation (404 otherwise)."""
    return _found(selectors.steward_team_get(team_id=team_id, organisation=organisation))


def active_user_access(*, user_id: int) -> User:
    """An active user to add to a team or assign (404 otherwise)."""
    return _found(selectors.active_user_get(user_id=user_id))


def steward_assignment_access(*, user: Any, assignment_id: int) -> StewardAssignment:
    """An assignment of an organisation ``user`` coordinates (404 otherwise)."""
    assignment = _found(selectors.steward_assignment_get(assignment_id=assignment_id))
    authorize(user, Action.STEWARD_MANAGE, assignment.organisation_id)
    return assignment


def segment_assignments_scope(*, user: Any, segment: RiverSegment) -> list[int] | None:
    """Whose stewards of ``segment`` ``user`` sees: every organisation's for its division's staff
    (None), else those of the organisations ``user`` coordinates (403 for anyone else)."""
    if can(user, Action.RIVER_MANAGE, segment.division_id):
        return None
    organisation_ids = user_coordinated_organisation_ids(user)
    if not organisation_ids:
        authorize(user, Action.COORDINATE, None, hide=False)
    return organisation_ids


def overdue_scope(*, user: Any, organisation_id: int | None = None) -> list[int]:
    """The organisations whose overdue segments ``user`` sees: all they coordinate (403 if none),
    or the one asked for (404 if not theirs)."""
    authorize(user, Action.COORDINATE, None, hide=False)
    if organisation_id is None:
        return user_coordinated_organisation_ids(user)
    if not can(user, Action.STEWARD_MANAGE, organisation_id):
        raise NotFound()
    return [organisation_id]


def organisation_patrols_check(*, user: Any, organisation_id: int | None) -> None:
    """An organisation's patrols are for its coordinators (404); one's own need no check."""
    if organisation_id is not None:
        authorize(user, Action.STEWARD_MANAGE, organisation_id)


def patrol_access(*, user: Any, patrol_id: int, action: Action = Action.PATROL_VIEW) -> Patrol:
    """A patrol ``user`` may ``action`` (404 otherwise)."""
    patrol = _found(selectors.patrol_get(patrol_id=patrol_id))
    authorize(user, action, patrol)
    return patrol


def patrol_get_or_404(*, patrol_id: int) -> Patrol:
    """A patrol just written by a service on the caller's behalf, loaded for the answer."""
    return _found(selectors.patrol_get(patrol_id=patrol_id))


@dataclass(frozen=True)
class ReportPlace:
    """Where an issue is reported: during a patrol, on a segment or on a river (one of them)."""

    patrol: Patrol | None = None
    segment: RiverSegment | None = None
    river: River | None = None


def report_place_access(
    *, user: Any, patrol_id: int | None, segment_id: int | None, river_id: int | None
) -> ReportPlace:
    """The first given of: one of ``user``'s own patrols, a segment, a river (404 otherwise)."""
    if patrol_id is not None:
        return ReportPlace(patrol=_found(selectors.own_patrol_get(user=user, patrol_id=patrol_id)))
    if segment_id is not None:
        return ReportPlace(segment=segment_access(user=user, segment_id=segment_id))
    if river_id is not None:
        return ReportPlace(river=river_access(river_id=river_id))
    return ReportPlace()


def river_issue_access(*, user: Any, issue_id: int, action: Action = Action.ISSUE_VIEW) -> RiverIssue:
    """An issue ``user`` may see (404 otherwise) and, for another action, may take it (403)."""
    issue = river_issue_get_or_404(issue_id=issue_id)
    authorize(user, Action.ISSUE_VIEW, issue)
    if action != Action.ISSUE_VIEW:
        authorize(user, action, issue, hide=False)
    return issue


def river_issue_get_or_404(*, issue_id: int) -> RiverIssue:
    return _found(selectors.river_issue_get(issue_id=issue_id))


# -- what a user sees of an issue ----------------------------------------------------------------


@dataclass(frozen=True)
class ReporterView:
    id: int | None
    name: str
    phone: str | None


def reporter_view(issue: RiverIssue, *, user: Any, handler: bool) -> ReporterView:
    """Handlers need to reach the reporter (id, name, masked phone); the reporter sees
    themselves; everyone else sees a masked name only."""
    reporter = issue.reporter
    known = handler or reporter.pk == user.pk
    return ReporterView(
        id=reporter.pk if known else None,
        name=reporter.display_name if known else mask_name(reporter.display_name),
        phone=mask_phone(reporter.phone) if handler else None,
    )


def river_issue_for_viewer(issue: RiverIssue, *, user: Any, handler: bool | None = None) -> RiverIssue:
    """Prepare ``issue`` for ``user`` (``reporter_view``). ``handler``: already known to be one
    of its division's handlers (a division-scoped list), else asked."""
    if handler is None:
        handler = can(user, Action.ISSUE_DISPATCH, issue)
    issue.reporter_view = reporter_view(issue, user=user, handler=handler)  # type: ignore[attr-defined]
    return issue


def river_issues_for_viewer(
    issues: list[RiverIssue], *, user: Any, handler: bool | None = None
) -> list[RiverIssue]:
    return [river_issue_for_viewer(issue, user=user, handler=handler) for issue in issues]


def river_issue_steps(issue: RiverIssue, *, user: Any) -> list[str]:
    """The workflow steps ``user`` may take on ``issue`` now."""
    return [
        step
        for step, action in ISSUE_STEP_ACTIONS.items()
        if issue.status in ISSUE_WORKFLOW[step].allowed_from and can(user, action, issue)
    ]


def river_photo_for_viewer(photo: RiverPhoto, *, evidence: bool) -> RiverPhoto:
    """Prepare ``photo``: its EXIF position (``gps_evidence``) only where ``evidence`` is allowed."""
    photo.gps_evidence = selectors.river_photo_gps_evidence(photo) if evidence else None  # type: ignore[attr-defined]
    return photo


def river_photos_for_viewer(photos: Any, *, staff: bool, evidence: bool) -> list[RiverPhoto]:
    """The photos a viewer sees: one WeChat's image check found risky is hidden from everyone but
    ``staff`` (who see it flagged ``hidden``), its uploader included (they were told)."""
    photos = list(photos)
    hidden = selectors.river_photos_hidden(photos)
    shown = []
    for photo in photos:
        photo.hidden = photo.file in hidden  # type: ignore[attr-defined]
        if staff or not photo.hidden:  # type: ignore[attr-defined]
            shown.append(river_photo_for_viewer(photo, evidence=evidence))
    return shown


def patrol_detail_for_viewer(patrol: Patrol, *, user: Any) -> Patrol:
    """Prepare ``patrol``'s photos for ``user`` (``visible_photos``): the recording organisation's
    coordinators are its staff."""
    patrol.visible_photos = river_photos_for_viewer(  # type: ignore[attr-defined]
        patrol.photos.all(),
        staff=can(user, Action.STEWARD_MANAGE, patrol.organisation_id),
        evidence=False,
    )
    return patrol


def river_issue_photo_for_viewer(photo: RiverPhoto, *, user: Any, issue: RiverIssue) -> RiverPhoto:
    return river_photo_for_viewer(photo, evidence=can(user, Action.ISSUE_EVIDENCE, issue))


def river_issue_detail_for_viewer(issue: RiverIssue, *, user: Any) -> RiverIssue:
    """Prepare ``issue`` for ``user``'s detail view: the reporter as they may see them, the photos
    (with GPS evidence for handlers) as ``visible_photos``, and the steps open to them."""
    river_issue_for_viewer(issue, user=user)
    issue.visible_photos = river_photos_for_viewer(  # type: ignore[attr-defined]
        issue.photos.all(),
        staff=can(user, Action.ISSUE_DISPATCH, issue),
        evidence=can(user, Action.ISSUE_EVIDENCE, issue),
    )
    issue.steps = river_issue_steps(issue, user=user)  # type: ignore[attr-defined]
    return issue


def river_issue_detail_access(*, user: Any, issue_id: int) -> RiverIssue:
    """An issue reloaded after a step, prepared for ``user``'s detail view."""
    return river_issue_detail_for_viewer(river_issue_get_or_404(issue_id=issue_id), user=user)
