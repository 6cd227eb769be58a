"""Who may do what with events: coordinators (of the event or of its organisation) run them,
scanners (of the event) scan, holders see their own passes.

The fetch-and-authorize helpers (``event_access``, ``event_pass_access``, ``holder_pass_access``,
``organisation_access``) are what the API and the websocket consumers call: one call returns the
object the user may act on, or raises ``NotFound`` (404) exactly where the endpoints always did,
so a user without a role learns nothing about whether an id exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.accounts.hooks import Delegation, grant_delegations, grant_scope_exists
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role, user_scope_ids
from backend.checkin.models import CheckinList, Device, Event, Pass
from backend.checkin.selectors import event_get
from backend.core.errors import NotFound
from backend.core.permissions import authorize, rule
from backend.volunteers.models import Organisation


class Action(StrEnum):
    EVENT_CREATE = "checkin.event_create"
    EVENT_VIEW = "checkin.event_view"
    EVENT_MANAGE = "checkin.event_manage"
    LIVE = "checkin.live"
    SCAN = "checkin.scan"
    PASS_VIEW = "checkin.pass_view"
    ANNUL_ANYTIME = "checkin.annul_anytime"


def _coordinates(user: Any, event: Any) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.EVENT, scope_id=event.pk
    ) or user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=event.organisation_id
    )


@rule(Action.EVENT_CREATE)
def event_create(user: Any, organisation: Any) -> bool:
    return user_has_role(user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=organisation.pk)


@rule(Action.EVENT_VIEW)
def event_view(user: Any, event: Any) -> bool:
    return _coordinates(user, event) or user_has_role(
        user, Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=event.pk
    )


@rule(Action.EVENT_MANAGE)
def event_manage(user: Any, event: Any) -> bool:
    return _coordinates(user, event)


@rule(Action.LIVE)
def live(user: Any, event: Any) -> bool:
    return _coordinates(user, event)


@rule(Action.SCAN)
def scan(user: Any, event: Any) -> bool:
    return user_has_role(user, Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=event.pk) or _coordinates(
        user, event
    )


@rule(Action.ANNUL_ANYTIME)
def annul_anytime(user: Any, event: Any) -> bool:
    """Coordinators annul any scan at any time; scanners only their device's, for a while."""
    return _coordinates(user, event)


@rule(Action.PASS_VIEW)
def pass_view(user: Any, pass_obj: Any) -> bool:
    return pass_obj.holder_id is not None and pass_obj.holder_id == user.pk


# --- fetch and authorize -----------------------------------------------------------------------------


def organisation_access(
    *, user: Any, organisation_id: int, action: Action = Action.EVENT_CREATE, hide: bool = True
) -> Organisation:
    """The organisation ``user`` may ``action`` (create events for), or ``NotFound``."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound()
    authorize(user, action, organisation, hide=hide)
    return organisation


def event_access(*, user: Any, event_id: int, action: Action = Action.EVENT_VIEW, hide: bool = True) -> Event:
    """The event ``user`` may ``action`` (with its organisation loaded), or ``NotFound``."""
    event = event_get(event_id=event_id)
    if event is None:
        raise NotFound()
    authorize(user, action, event, hide=hide)
    return event


def event_pass_access(
    *, user: Any, event_id: int, pass_id: int, action: Action = Action.EVENT_MANAGE
) -> Pass:
    """A pass of an event ``user`` may ``action`` (manage), or ``NotFound``."""
    event = event_access(user=user, event_id=event_id, action=action)
    pass_obj = Pass.objects.filter(pk=pass_id, event=event).first()
    if pass_obj is None:
        raise NotFound()
    return pass_obj


def event_list_access(
    *, user: Any, event_id: int, list_id: int, action: Action = Action.EVENT_MANAGE
) -> CheckinList:
    """A check-in list of an event ``user`` may ``action`` (manage), or ``NotFound``."""
    event = event_access(user=user, event_id=event_id, action=action)
    lst = CheckinList.objects.filter(pk=list_id, event=event).prefetch_related("shifts").first()
    if lst is None:
        raise NotFound()
    return lst


def event_device_access(
    *, user: Any, event_id: int, device_id: int, action: Action = Action.EVENT_MANAGE
) -> Device:
    """A device of an event ``user`` may ``action`` (manage), or ``NotFound``."""
    event = event_access(user=user, event_id=event_id, action=action)
    device = Device.objects.filter(pk=device_id, event=event).select_related("event").first()
    if device is None:
        raise NotFound()
    return device


def holder_pass_access(*, user: Any, pass_id: int, action: Action = Action.PASS_VIEW) -> Pass:
    """A valid pass ``user`` holds (their QR code), or ``NotFound``: nobody else's pass exists."""
    pass_obj = Pass.objects.filter(pk=pass_id, status=Pass.Status.VALID).first()
    if pass_obj is None:
        raise NotFound()
    authorize(user, action, pass_obj)
    return pass_obj


# --- roles over events -----------------------------------------------------------------------------

EVENT_STAFF_ROLES = frozenset({Role.SCANNER, Role.COORDINATOR})


@grant_scope_exists.register
def event_scope_exists(scope_type: str, scope_id: str) -> bool | None:
    """Scanner and coordinator grants name an event by id."""
    if scope_type != ScopeType.EVENT:
        return None
    return scope_id.isdigit() and Event.objects.filter(pk=int(scope_id)).exists()


@grant_delegations.register
def event_staff_delegations(user: Any) -> list[Delegation]:
    """Coordinators grant and revoke the scanner and coordinator roles of the events they run
    (those of the organisations they coordinate, and events they coordinate themselves): the
    same people who may add event staff (``POST /events/{id}/staff``)."""
    organisations = user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION)
    events = set(user_scope_ids(user, Role.COORDINATOR, ScopeType.EVENT))
    if organisations:
        ids = Event.objects.filter(organisation_id__in=[int(o) for o in organisations if o.isdigit()])
        events |= {str(pk) for pk in ids.values_list("pk", flat=True)}
    if not events:
        return []
    return [Delegation(roles=EVENT_STAFF_ROLES, scope_type=ScopeType.EVENT, scope_ids=frozenset(events))]
