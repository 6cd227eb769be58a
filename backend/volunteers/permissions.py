"""Who may do what in the volunteers domain, and the fetch-and-authorize helpers endpoints call.

Coordinators of an organisation hold ``coordinator`` grants with ``scope_type="organisation"``
and ``scope_id=str(organisation.pk)``. Platform admins pass every rule (core.permissions).

Each ``*_access`` helper returns the object ``user`` may act on, or raises exactly what the
endpoint has always answered: ``NotFound`` (404) when the object does not exist or must stay
hidden, ``PermissionDenied`` (403) where the endpoint says so (``hide=False``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from backend.accounts.hooks import grant_scope_exists
from backend.accounts.models import Role, ScopeType, User
from backend.accounts.selectors import user_has_role
from backend.core.errors import NotFound, PermissionDenied
from backend.core.i18n import T
from backend.core.permissions import authorize, can, rule
from backend.volunteers import selectors
from backend.volunteers.models import (
    Activity,
    Certificate,
    IdNumberCorrection,
    Organisation,
    ServiceRecord,
    Shift,
    Signup,
    SignupTransfer,
    VolunteerProfile,
    VolunteerTeam,
)


class Action(StrEnum):
    ORGANISATION_CREATE = "volunteers.organisation_create"
    ORGANISATION_MANAGE = "volunteers.organisation_manage"
    COORDINATORS_MANAGE = "volunteers.coordinators_manage"
    ACTIVITY_VIEW = "volunteers.activity_view"
    ACTIVITY_MANAGE = "volunteers.activity_manage"
    SHIFT_MANAGE = "volunteers.shift_manage"
    SHIFT_ROSTER = "volunteers.shift_roster"
    SIGNUP_CANCEL = "volunteers.signup_cancel"
    SIGNUP_VIEW = "volunteers.signup_view"
    ATTENDANCE_RECORD = "volunteers.attendance_record"
    RECORD_DECIDE = "volunteers.record_decide"
    RECORD_VIEW = "volunteers.record_view"
    CERTIFICATE_REVOKE = "volunteers.certificate_revoke"
    TEAM_VIEW = "volunteers.team_view"
    TEAM_LEAD = "volunteers.team_lead"
    TRANSFER_ANSWER = "volunteers.transfer_answer"
    TRANSFER_VIEW = "volunteers.transfer_view"
    ID_CORRECTION_DECIDE = "volunteers.id_correction_decide"


def coordinates(user: User, organisation_id: int) -> bool:
    return user_has_role(
        user, Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=str(organisation_id)
    )


# --- rules ------------------------------------------------------------------------------------


@rule(Action.ORGANISATION_CREATE)
def organisation_create(user: User, obj: object) -> bool:
    return False  # platform admins only


@rule(Action.ORGANISATION_MANAGE)
def organisation_manage(user: User, organisation: Organisation) -> bool:
    """Create activities, shifts and posts of the organisation, export its records."""
    return coordinates(user, organisation.pk)


@rule(Action.COORDINATORS_MANAGE)
def coordinators_manage(user: User, organisation: Organisation) -> bool:
    return False  # platform admins only


@rule(Action.ACTIVITY_VIEW)
def activity_view(user: User, activity: Activity) -> bool:
    """Published (and cancelled) activities are public; drafts only to their coordinators."""
    return activity.status != Activity.Status.DRAFT or coordinates(user, activity.organisation_id)


@rule(Action.ACTIVITY_MANAGE)
def activity_manage(user: User, activity: Activity) -> bool:
    return coordinates(user, activity.organisation_id)


@rule(Action.SHIFT_MANAGE)
def shift_manage(user: User, shift: Shift) -> bool:
    """Change a shift: whoever manages its activity."""
    return coordinates(user, shift.activity.organisation_id)


@rule(Action.SHIFT_ROSTER)
def shift_roster(user: User, shift: Shift) -> bool:
    return coordinates(user, shift.activity.organisation_id)


@rule(Action.SIGNUP_CANCEL)
def signup_cancel(user: User, signup: Signup) -> bool:
    return signup.user_id == user.pk


@rule(Action.SIGNUP_VIEW)
def signup_view(user: User, signup: Signup) -> bool:
    return signup.user_id == user.pk or coordinates(user, signup.shift.activity.organisation_id)


@rule(Action.ATTENDANCE_RECORD)
def attendance_record(user: User, signup: Signup) -> bool:
    return coordinates(user, signup.shift.activity.organisation_id)


@rule(Action.RECORD_DECIDE)
def record_decide(user: User, record: ServiceRecord) -> bool:
    """The organisation approves 8-12 h days and backfills; escalated days need a platform admin.
    Nobody decides on their own hours."""
    return (
        record.user_id != user.pk
        and record.status != ServiceRecord.Status.ESCALATED
        and coordinates(user, record.organisation_id)
    )


@rule(Action.RECORD_VIEW)
def record_view(user: User, record: ServiceRecord) -> bool:
    return record.user_id == user.pk or coordinates(user, record.organisation_id)


@rule(Action.CERTIFICATE_REVOKE)
def certificate_revoke(user: User, certificate: Certificate) -> bool:
    """The issuing organisation's coordinators (谁记录谁证明); platform admins pass every rule."""
    return coordinates(user, certificate.organisation_id)


@rule(Action.TEAM_LEAD)
def team_lead(user: User, team: VolunteerTeam) -> bool:
    return team.leader_id == user.pk


@rule(Action.TEAM_VIEW)
def team_view(user: User, team: VolunteerTeam) -> bool:
    """Its leader, its members and the people invited to it (members are prefetched)."""
    return team.leader_id == user.pk or any(
        m.user_id == user.pk and m.status in ("invited", "active") for m in team.members.all()
    )


@rule(Action.TRANSFER_VIEW)
def transfer_view(user: User, transfer: SignupTransfer) -> bool:
    return user.pk in (transfer.from_user_id, transfer.to_user_id)


@rule(Action.TRANSFER_ANSWER)
def transfer_answer(user: User, transfer: SignupTransfer) -> bool:
    """Only the named receiver accepts (not even a platform admin: it is their sign-up)."""
    return user.pk == transfer.to_user_id


@rule(Action.ID_CORRECTION_DECIDE)
def id_correction_decide(user: User, correction: IdNumberCorrection) -> bool:
    """Confirm or reject a volunteer's ID number correction: coordinators of an organisation the
    volunteer signed up with or served (they can meet the person and see the card); platform
    admins always. Nobody decides on their own."""
    if correction.profile.user_id == user.pk:
        return False
    return selectors.id_corrections_for_staff(user=user).filter(pk=correction.pk).exists()


# --- fetch and authorize ----------------------------------------------------------------------


T_ = TypeVar("T_")


def _authorized(user: User, action: Action, obj: T_ | None, *, hide: bool = True) -> T_:
    """``obj`` if it exists and ``user`` may ``action`` it: ``NotFound`` when it does not exist,
    and when it is refused with ``hide`` (else ``PermissionDenied``)."""
    if obj is None:
        raise NotFound()
    authorize(user, action, obj, hide=hide)
    return obj


def profile_access(*, user: User) -> VolunteerProfile:
    """The caller's own volunteer profile (division and consents loaded), or ``NotFound``."""
    profile = selectors.volunteer_profile_of(user=user)
    if profile is None:
        raise NotFound(T("尚未注册为志愿者。", "Not registered as a volunteer."))
    return profile


def organisation_access(
    *, user: User, organisation_id: int, action: Action = Action.ORGANISATION_MANAGE, hide: bool = True
) -> Organisation:
    """The organisation ``user`` may ``action``; ``NotFound`` when there is none."""
    return _authorized(user, action, selectors.organisation_get(organisation_id=organisation_id), hide=hide)


def post_organisation_access(*, user: User, organisation_id: int | None) -> Organisation | None:
    """Who may create a service post: coordinators for their organisation's posts (403 for
    another's), platform admins for posts of no organisation."""
    if organisation_id is None:
        authorize(user, Action.ORGANISATION_CREATE, hide=False)
        return None
    return organisation_access(
        user=user, organisation_id=organisation_id, action=Action.ORGANISATION_MANAGE, hide=False
    )


def activity_access(
    *, user: User, activity_id: int, action: Action = Action.ACTIVITY_MANAGE, hide: bool = True
) -> Activity:
    """The activity (with its organisation) ``user`` may ``action``, or ``NotFound``."""
    activity = Activity.objects.select_related("organisation").filter(pk=activity_id).first()
    return _authorized(user, action, activity, hide=hide)


def activity_detail_access(*, user: User | None, activity_id: int) -> Activity:
    """The activity with its shifts as ``user`` may see it: drafts only to its coordinators,
    ``NotFound`` for everybody else; without sign-in (``user`` None) published ones only."""
    activity = selectors.activity_get(activity_id=activity_id)
    if user is None:
        if activity is None or activity.status != Activity.Status.PUBLISHED:
            raise NotFound()
        return activity
    return _authorized(user, Action.ACTIVITY_VIEW, activity)


def shift_access(
    *, user: User, shift_id: int, action: Action = Action.SHIFT_ROSTER, hide: bool = True
) -> Shift:
    """The shift (with its activity and organisation) ``user`` may ``action``, or ``NotFound``."""
    return _authorized(user, action, selectors.shift_get(shift_id=shift_id), hide=hide)


def signup_access(*, user: User, signup_id: int, action: Action = Action.SIGNUP_VIEW) -> Signup:
    """The sign-up (with shift, activity, organisation and volunteer) ``user`` may ``action``;
    ``NotFound`` for anyone else, so sign-up ids cannot be probed."""
    return _authorized(user, action, selectors.signup_get(signup_id=signup_id))


def record_access(*, user: User, record_id: int, action: Action = Action.RECORD_DECIDE) -> ServiceRecord:
    """A service record ``user`` may ``action``: ``NotFound`` when they may not even see it,
    ``PermissionDenied`` when they see it but may not act (their own hours, an escalated day)."""
    record = ServiceRecord.objects.filter(pk=record_id).first()
    if record is None or not can(user, Action.RECORD_VIEW, record):
        raise NotFound()
    authorize(user, action, record, hide=False)
    return record


def certificate_access(*, user: User, number: str, action: Action = Action.CERTIFICATE_REVOKE) -> Certificate:
    """The certificate numbered ``number`` that ``user`` may ``action``; ``NotFound`` otherwise."""
    return _authorized(user, action, selectors.certificate_by_number(number=number))


def team_access(*, user: User, team_id: int, action: Action = Action.TEAM_VIEW) -> VolunteerTeam:
    """The team (members loaded) ``user`` may ``action``: ``NotFound`` for outsiders,
    ``PermissionDenied`` for a member asking for the leader's actions."""
    team = _authorized(user, Action.TEAM_VIEW, selectors.team_get(team_id=team_id))
    authorize(user, action, team, hide=False)
    return team


def transfer_access(*, user: User, transfer_id: int, action: Action = Action.TRANSFER_VIEW) -> SignupTransfer:
    """A transfer offer its giver or receiver sees (404 for anyone else)."""
    transfer = selectors.transfer_get(transfer_id=transfer_id)
    if transfer is None or not transfer_view(user, transfer):
        raise NotFound()
    authorize(user, action, transfer, hide=False)
    return transfer


def id_correction_access(*, user: User, correction_id: int) -> IdNumberCorrection:
    """A correction ``user`` may decide on, or ``NotFound`` (staff outside its reach never learn
    it exists); their own is ``PermissionDenied``."""
    correction = IdNumberCorrection.objects.select_related("profile").filter(pk=correction_id).first()
    if correction is not None and correction.profile.user_id == user.pk:
        raise PermissionDenied()  # platform admins too: nobody confirms their own number
    return _authorized(user, Action.ID_CORRECTION_DECIDE, correction)


@grant_scope_exists.register
def organisation_scope_exists(scope_type: str, scope_id: str) -> bool | None:
    """Coordinator grants name a volunteer organisation by id."""
    if scope_type != ScopeType.ORGANISATION:
        return None
    return scope_id.isdigit() and Organisation.objects.filter(pk=int(scope_id)).exists()
