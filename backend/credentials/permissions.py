"""Who may do what with associations and their practitioners and credentials.

Association admins (``association_admin`` grants, scope ``association`` = Association.pk) manage
their own association; platform admins pass every rule (``backend.core.permissions``).

Endpoints ask for an object and the right to act on it in one call: ``association_access``,
``practitioner_access``, ``credential_access``, ``blacklist_entry_access``. Whatever the user may
not manage answers 404 as if it did not exist, so ids cannot be probed; an action refused on an
object the user manages answers 403.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.accounts.hooks import grant_scope_exists
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role
from backend.core.errors import NotFound
from backend.core.permissions import authorize, rule
from backend.credentials import selectors
from backend.credentials.models import Association, BlacklistEntry, Credential, Practitioner


class Action(StrEnum):
    ASSOCIATION_CREATE = "association.create"
    ASSOCIATION_VIEW = "association.view"
    ASSOCIATION_MANAGE = "association.manage"
    PRACTITIONER_READ_ID_NUMBER = "practitioner.read_id_number"


def administers(user: Any, association_id: Any) -> bool:
    return user_has_role(
        user, Role.ASSOCIATION_ADMIN, scope_type=ScopeType.ASSOCIATION, scope_id=association_id
    )


def _association_id(obj: Any) -> object:
    return getattr(obj, "association_id", None) or getattr(obj, "pk", obj)


@rule(Action.ASSOCIATION_CREATE)
def association_create(user: Any, obj: Any) -> bool:
    return False  # platform admins only


@rule(Action.ASSOCIATION_VIEW)
def association_view(user: Any, obj: Any) -> bool:
    return administers(user, _association_id(obj))


@rule(Action.ASSOCIATION_MANAGE)
def association_manage(user: Any, obj: Any) -> bool:
    return administers(user, _association_id(obj))


@rule(Action.PRACTITIONER_READ_ID_NUMBER)
def practitioner_read_id_number(user: Any, obj: Any) -> bool:
    return administers(user, _association_id(obj))


# --- fetch and authorize -------------------------------------------------------------------------


def association_access(
    *, user: Any, association_id: int, action: Action = Action.ASSOCIATION_MANAGE
) -> Association:
    """The association ``user`` may ``action`` (view or manage); ``NotFound`` when it does not
    exist or the user may not."""
    association = Association.objects.filter(pk=association_id).first()
    if association is None:
        raise NotFound()
    authorize(user, action, association)
    return association


def practitioner_access(
    *,
    user: Any,
    association_id: int,
    practitioner_id: int,
    action: Action = Action.ASSOCIATION_MANAGE,
) -> Practitioner:
    """A practitioner of an association ``user`` manages (``blacklisted`` annotated), else
    ``NotFound``. Any other ``action`` on the practitioner is checked next, refused with
    ``PermissionDenied``: the user knows this person is registered."""
    association = association_access(user=user, association_id=association_id)
    practitioner = selectors.practitioner_get(association=association, practitioner_id=practitioner_id)
    if practitioner is None:
        raise NotFound()
    if action != Action.ASSOCIATION_MANAGE:
        authorize(user, action, practitioner, hide=False)
    return practitioner


def credential_access(*, user: Any, credential_id: int) -> Credential:
    """A credential (with its practitioner and association) of an association ``user`` manages,
    else ``NotFound``."""
    credential = selectors.credential_get(credential_id=credential_id)
    if credential is None:
        raise NotFound()
    authorize(user, Action.ASSOCIATION_MANAGE, credential)
    return credential


def blacklist_entry_access(*, user: Any, association_id: int, entry_id: int) -> BlacklistEntry:
    """A blacklist entry (with its practitioner) of an association ``user`` manages, else
    ``NotFound``."""
    association = association_access(user=user, association_id=association_id)
    entry = selectors.blacklist_entry_get(association=association, entry_id=entry_id)
    if entry is None:
        raise NotFound()
    return entry


@grant_scope_exists.register
def association_scope_exists(scope_type: str, scope_id: str) -> bool | None:
    """Association admins' grants name an association by id."""
    if scope_type != ScopeType.ASSOCIATION:
        return None
    return scope_id.isdigit() and Association.objects.filter(pk=int(scope_id)).exists()
