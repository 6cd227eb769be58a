"""Teams (志愿服务队): a volunteer leads a team, members join by accepting the leader's invitation,
and the leader signs members up for a shift in one request.

A team sign-up takes each member's place through the single sign-up's locked path
(``signups._signup_create_locked``: the same checks, the same conditional UPDATE on the shift), so
the burst guarantee holds. The members' profile rows are locked first in id order, so a team
sign-up and single sign-ups (profile, then shift) never wait on each other in a cycle.

``all`` (the default): every member gets a place or nobody does (one transaction; 409
``team_signup_failed`` with per-member results). ``partial``: each member in a savepoint, the
answer lists who got what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import DomainError, InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_name
from backend.notifications.services import notify
from backend.volunteers.errors import AlreadySignedUp, RequirementsNotMet, ShiftFull, TeamSignupFailed
from backend.volunteers.models import Signup, VolunteerProfile, VolunteerTeam, VolunteerTeamMember
from backend.volunteers.services._common import _now, _retrying
from backend.volunteers.services.signups import _signup_create_locked

MAX_TEAM_SIGNUP = 50
Member = VolunteerTeamMember


def _leader_name(user: User) -> str:
    profile = VolunteerProfile.objects.filter(user=user).only("real_name").first()
    return mask_name(profile.real_name) if profile else ""


def team_create(*, leader: User, name: str, now: datetime | None = None) -> VolunteerTeam:
    """A registered volunteer founds a team and is its first (active) member."""
    now = _now(now)
    if not VolunteerProfile.objects.filter(user=leader).exists():
        raise RequirementsNotMet(reasons=[{"requirement": "profile"}])
    with transaction.atomic():
        team = VolunteerTeam.objects.create(name=name.strip()[:50], leader=leader)
        Member.objects.create(
            team=team, user=leader, status=Member.Status.ACTIVE, invited_at=now, responded_at=now
        )
        audit_record(actor=leader, action="volunteer_team.created", target=team, data={"name": team.name})
    return team


def team_invite(*, team: VolunteerTeam, by: User, volunteer_no: str, now: datetime | None = None) -> Member:
    """Invite a registered volunteer (by volunteer number); they are a member once they accept.
    Inviting someone already invited or in the team changes nothing."""
    now = _now(now)
    profile = VolunteerProfile.objects.filter(volunteer_no=volunteer_no.strip()).first()
    if profile is None:
        raise ValidationFailed(
            errors=[
                field_error("volunteer_no", "not_found", T("没有该志愿者编号。", "No such volunteer number."))
            ]
        )
    with transaction.atomic():
        member, created = Member.objects.select_for_update().get_or_create(
            team=team, user_id=profile.user_id, defaults={"invited_at": now}
        )
        if not created and member.status in (Member.Status.INVITED, Member.Status.ACTIVE):
            return member
        if not created:
            member.status, member.invited_at, member.responded_at = Member.Status.INVITED, now, None
            member.save(update_fields=["status", "invited_at", "responded_at"])
        audit_record(actor=by, action="volunteer_team.invited", target=team, data={"user": profile.user_id})
        notify(
            user=profile.user_id,
            kind="team.invited",
            params={"team": team.name, "leader": _leader_name(by)},
            target=team,
        )
    return member


def team_membership_respond(
    *, team: VolunteerTeam, user: User, accept: bool, now: datetime | None = None
) -> Member:
    """The invited volunteer accepts (becomes a member) or declines."""
    now = _now(now)
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(team=team, user=user).first()
        if member is None or member.status != Member.Status.INVITED:
            raise InvalidTransition(status=member.status if member else "none")
        member.status = Member.Status.ACTIVE if accept else Member.Status.DECLINED
        member.responded_at = now
        member.save(update_fields=["status", "responded_at"])
        audit_record(
            actor=user,
            action="volunteer_team.accepted" if accept else "volunteer_team.declined",
            target=team,
            data={"user": user.pk},
        )
    return member


def team_leave(*, team: VolunteerTeam, user: User, now: datetime | None = None) -> Member:
    """A member leaves (the leader cannot: a team keeps its leader). Places already taken stay."""
    now = _now(now)
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(team=team, user=user).first()
        if member is None or member.status != Member.Status.ACTIVE or team.leader_id == user.pk:
            raise InvalidTransition(status=member.status if member else "none")
        member.status, member.responded_at = Member.Status.LEFT, now
        member.save(update_fields=["status", "responded_at"])
        audit_record(actor=user, action="volunteer_team.left", target=team, data={"user": user.pk})
    return member


@dataclass
class MemberResult:
    user_id: int
    ok: bool
    signup_id: int | None = None
    status: str | None = None
    code: str | None = None
    details: dict[str, Any] | None = None


def _result_of(user_id: int, error: DomainError) -> MemberResult:
    return MemberResult(user_id=user_id, ok=False, code=error.error_code, details=error.details or {})


def _members_for(*, team: VolunteerTeam, user_ids: list[int] | None) -> tuple[list[int], list[MemberResult]]:
    """The active members to sign up (all of them when none are named) and refusals for the
    named people who are not active members."""
    active = set(team.members.filter(status=Member.Status.ACTIVE).values_list("user_id", flat=True))
    wanted = list(dict.fromkeys(user_ids)) if user_ids else sorted(active)
    if len(wanted) > MAX_TEAM_SIGNUP:
        raise ValidationFailed(
            errors=[
                field_error(
                    "user_ids", "too_many", T("一次最多为 50 人报名。", "At most 50 members at once.")
                )
            ]
        )
    refused = [
        MemberResult(user_id=uid, ok=False, code="not_a_member", details={})
        for uid in wanted
        if uid not in active
    ]
    return [uid for uid in wanted if uid in active], refused


def _one_member(*, shift_id: int, user: User, by: User, now: datetime, waitlist: bool) -> MemberResult:
    """One member's sign-up in a savepoint: rolled back alone when it fails."""
    try:
        with transaction.atomic():
            signup = _signup_create_locked(shift_id=shift_id, user=user, now=now, actor=by)
            if signup.status == Signup.Status.WAITLISTED and not waitlist:
                raise ShiftFull()
    except IntegrityError:
        return _result_of(user.pk, AlreadySignedUp())
    except DomainError as error:
        if error.status == 404:  # the shift itself: the whole request is a 404
            raise
        return _result_of(user.pk, error)
    return MemberResult(user_id=user.pk, ok=True, signup_id=signup.pk, status=signup.status)


def team_shift_signup(
    *,
    team: VolunteerTeam,
    by: User,
    shift_id: int,
    user_ids: list[int] | None = None,
    partial: bool = False,
    waitlist: bool = False,
    now: datetime | None = None,
) -> list[MemberResult]:
    """The leader signs members up for a shift; see the module docstring. Without ``waitlist`` a
    member who would only be waitlisted counts as ``shift_full``."""
    now = _now(now)
    ids, refused = _members_for(team=team, user_ids=user_ids)
    if refused and not partial:
        raise TeamSignupFailed(results=[r.__dict__ for r in refused])

    def attempt() -> list[MemberResult]:
        with transaction.atomic():
            users = list(User.objects.filter(pk__in=ids).order_by("pk"))
            # Profiles first, in id order (see the module docstring), then each member's path.
            list(
                VolunteerProfile.objects.select_for_update()
                .filter(user__in=users)
                .order_by("user_id")
                .values("pk")
            )
            results = [
                _one_member(shift_id=shift_id, user=u, by=by, now=now, waitlist=waitlist) for u in users
            ]
            if not partial and not all(r.ok for r in results):
                raise TeamSignupFailed(results=[r.__dict__ for r in results])
            for result in results:
                if result.ok:
                    _tell_member(result=result, team=team, by=by)
            return results

    results = _retrying(attempt) if ids else []
    order = {uid: i for i, uid in enumerate(ids)}
    return sorted(results, key=lambda r: order[r.user_id]) + refused


def _tell_member(*, result: MemberResult, team: VolunteerTeam, by: User) -> None:
    signup = Signup.objects.select_related("shift__activity").get(pk=int(result.signup_id or 0))
    notify(
        user=result.user_id,
        kind="team.signed_up",
        params={
            "team": team.name,
            "leader": _leader_name(by),
            "activity": signup.shift.activity.title,
            "starts_at": timezone.localtime(signup.shift.starts_at).strftime("%m-%d %H:%M"),
        },
        target=signup,
    )
