"""Who may do what in the rivers domain.

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
"""

from __future__ import annotations

from typing import Any

from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role, user_reviews_division, user_scope_ids
from backend.core.permissions import rule


def _org_id(obj: Any) -> str:
    return str(getattr(obj, "pk", obj))


def user_coordinates(user: Any, organisation: Any) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=_org_id(organisation)
    )


def user_coordinated_organisation_ids(user: Any) -> list[int]:
    return [int(s) for s in user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION) if s.isdigit()]


@rule("river.manage")
def river_manage(user: Any, division_code: Any) -> bool:
    """Division staff manage rivers, segments and policies of their division (and below)."""
    return isinstance(division_code, str) and user_reviews_division(user, division_code)


@rule("river.steward_manage")
def steward_manage(user: Any, organisation: Any) -> bool:
    return organisation is not None and user_coordinates(user, organisation)


@rule("river.coordinate")
def coordinate(user: Any, obj: Any) -> bool:
    return bool(user_coordinated_organisation_ids(user))


@rule("patrol.record")
def patrol_record(user: Any, patrol: Any) -> bool:
    return patrol.user_id == user.pk


@rule("patrol.view")
def patrol_view(user: Any, patrol: Any) -> bool:
    """Tracks are sensitive (PIPL): the patroller and the recording organisation's coordinators."""
    return patrol.user_id == user.pk or user_coordinates(user, patrol.organisation_id)


def _is_river_chief(user: Any, segment_id: int) -> bool:
    from backend.rivers.selectors import user_is_river_chief

    return user_is_river_chief(user=user, segment_id=segment_id)


@rule("river_issue.view")
def issue_view(user: Any, issue: Any) -> bool:
    return (
        issue.reporter_id == user.pk
        or issue.assignee_id == user.pk
        or user_reviews_division(user, issue.division_id)
        or _is_river_chief(user, issue.segment_id)
    )


@rule("river_issue.dispatch")
def issue_dispatch(user: Any, issue: Any) -> bool:
    """Accept, reject, assign and close: the handlers of the issue's division."""
    return user_reviews_division(user, issue.division_id)


@rule("river_issue.resolve")
def issue_resolve(user: Any, issue: Any) -> bool:
    return issue.assignee_id is not None and issue.assignee_id == user.pk


@rule("river_issue.verify")
def issue_verify(user: Any, issue: Any) -> bool:
    return issue.reporter_id == user.pk or _is_river_chief(user, issue.segment_id)


@rule("river_issue.evidence")
def issue_evidence(user: Any, issue: Any) -> bool:
    """The GPS position from a photo's EXIF: the division's handlers only."""
    return user_reviews_division(user, issue.division_id)
