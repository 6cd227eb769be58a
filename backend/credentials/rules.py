"""Who may do what with associations and their practitioners and credentials.

Association admins (``association_admin`` grants, scope ``association`` = Association.pk) manage
their own association; platform admins pass every rule (``backend.core.permissions``)."""

from __future__ import annotations

from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role
from backend.core.permissions import rule


def administers(user, association_id) -> bool:
    return user_has_role(
        user, Role.ASSOCIATION_ADMIN, scope_type=ScopeType.ASSOCIATION, scope_id=association_id
    )


def _association_id(obj) -> object:
    return getattr(obj, "association_id", None) or getattr(obj, "pk", obj)


@rule("association.create")
def association_create(user, obj) -> bool:
    return False  # platform admins only


@rule("association.view")
def association_view(user, obj) -> bool:
    return administers(user, _association_id(obj))


@rule("association.manage")
def association_manage(user, obj) -> bool:
    return administers(user, _association_id(obj))


@rule("practitioner.read_id_number")
def practitioner_read_id_number(user, obj) -> bool:
    return administers(user, _association_id(obj))
