"""Who may do what in the volunteers domain.

Coordinators of an organisation hold ``coordinator`` grants with ``scope_type="organisation"``
and ``scope_id=str(organisation.pk)``. Platform admins pass every rule (core.permissions).
"""

from __future__ import annotations

from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_has_role
from backend.core.permissions import rule


def coordinates(user, organisation_id) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=str(organisation_id)
    )


@rule("volunteers.organisation_create")
def organisation_create(user, obj) -> bool:
    return False  # platform admins only


@rule("volunteers.organisation_manage")
def organisation_manage(user, organisation) -> bool:
    """Create activities, shifts and posts of the organisation, export its records."""
    return coordinates(user, organisation.pk)


@rule("volunteers.coordinators_manage")
def coordinators_manage(user, organisation) -> bool:
    return False  # platform admins only


@rule("volunteers.activity_manage")
def activity_manage(user, activity) -> bool:
    return coordinates(user, activity.organisation_id)


@rule("volunteers.shift_roster")
def shift_roster(user, shift) -> bool:
    return coordinates(user, shift.activity.organisation_id)


@rule("volunteers.signup_cancel")
def signup_cancel(user, signup) -> bool:
    return signup.user_id == user.pk


@rule("volunteers.signup_view")
def signup_view(user, signup) -> bool:
    return signup.user_id == user.pk or coordinates(user, signup.shift.activity.organisation_id)


@rule("volunteers.attendance_record")
def attendance_record(user, signup) -> bool:
    return coordinates(user, signup.shift.activity.organisation_id)


@rule("volunteers.record_decide")
def record_decide(user, record) -> bool:
    """The organisation approves 8-12 h days and backfills; escalated days need a platform admin.
    Nobody decides on their own hours."""
    return (
        record.user_id != user.pk
        and record.status != "escalated"
        and coordinates(user, record.organisation_id)
    )


@rule("volunteers.record_view")
def record_view(user, record) -> bool:
    return record.user_id == user.pk or coordinates(user, record.organisation_id)
