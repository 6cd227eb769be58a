"""Who may do what with events: coordinators (of the event or of its organisation) run them,
scanners (of the event) scan, holders see their own passes."""

from __future__ import annotations

from typing import Any

from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role
from backend.core.permissions import rule


def _coordinates(user: Any, event: Any) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.EVENT, scope_id=event.pk
    ) or user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=event.organisation_id
    )


@rule("checkin.event_create")
def event_create(user: Any, organisation: Any) -> bool:
    return user_has_role(user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=organisation.pk)


@rule("checkin.event_view")
def event_view(user: Any, event: Any) -> bool:
    return _coordinates(user, event) or user_has_role(
        user, Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=event.pk
    )


@rule("checkin.event_manage")
def event_manage(user: Any, event: Any) -> bool:
    return _coordinates(user, event)


@rule("checkin.live")
def live(user: Any, event: Any) -> bool:
    return _coordinates(user, event)


@rule("checkin.scan")
def scan(user: Any, event: Any) -> bool:
    return user_has_role(user, Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=event.pk) or _coordinates(
        user, event
    )


@rule("checkin.pass_view")
def pass_view(user: Any, pass_obj: Any) -> bool:
    return pass_obj.holder_id is not None and pass_obj.holder_id == user.pk
