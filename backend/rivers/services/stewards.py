"""Stewards of a segment: 河小二 teams of an organisation, and assignments of a volunteer river
chief or a team. Stewards are registered volunteers (``backend.volunteers``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.selectors import division_within
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.rivers.errors import NotAVolunteer, SegmentOutsideArea
from backend.rivers.models import RiverSegment, StewardAssignment, StewardTeam, StewardTeamMember
from backend.rivers.services._common import clean_text, invalid
from backend.volunteers.models import VolunteerProfile


def _require_volunteer(user: Any, field: str) -> None:
    if not VolunteerProfile.objects.filter(user_id=user.pk).exists():
        raise NotAVolunteer(field=field)


def steward_team_create(*, actor: Any, organisation: Any, name: str) -> StewardTeam:
    name = clean_text(name, "name", max_length=80)
    with transaction.atomic():
        if StewardTeam.objects.filter(organisation=organisation, name=name).exists():
            raise invalid(
                "name",
                "duplicate",
                T("该组织已有同名队伍。", "The organisation already has a team of that name."),
            )
        team = StewardTeam.objects.create(organisation=organisation, name=name)
        audit_record(
            actor=actor, action="river_team.created", target=team, data={"organisation": organisation.pk}
        )
    return team


def steward_team_member_add(*, actor: Any, team: StewardTeam, user: Any) -> StewardTeamMember:
    """Invite a volunteer into the team: they are a member once they accept
    (``steward_team_membership_respond``), never by the coordinator's word alone."""
    _require_volunteer(user, "user_id")
    with transaction.atomic():
        member, created = StewardTeamMember.objects.get_or_create(team=team, user=user)
        if created:
            audit_record(actor=actor, action="river_team.member_invited", target=team, data={"user": user.pk})
    return member


def steward_team_membership_respond(*, team: StewardTeam, user: Any, accept: bool) -> None:
    """The invited volunteer accepts (becomes a member) or declines (the invitation goes)."""
    with transaction.atomic():
        member = StewardTeamMember.objects.select_for_update().filter(team=team, user=user).first()
        if member is None:
            raise NotFound()
        if member.accepted_at is not None:
            raise InvalidTransition(status="member")
        if accept:
            member.accepted_at = timezone.now()
            member.save(update_fields=["accepted_at"])
        else:
            member.delete()
        audit_record(
            actor=user,
            action="river_team.member_accepted" if accept else "river_team.member_declined",
            target=team,
            data={"user": user.pk},
        )


def steward_team_member_remove(*, actor: Any, team: StewardTeam, user: Any) -> None:
    with transaction.atomic():
        deleted, _ = StewardTeamMember.objects.filter(team=team, user=user).delete()
        if deleted:
            audit_record(actor=actor, action="river_team.member_removed", target=team, data={"user": user.pk})


def _check_steward(*, kind: str, organisation: Any, user: Any, team: StewardTeam | None) -> None:
    """A river chief is one registered volunteer; a team assignment names a team of the
    assigning organisation."""
    if kind == StewardAssignment.Kind.RIVER_CHIEF:
        if user is None or team is not None:
            raise invalid("user_id", "required", T("请指定志愿者河长。", "A river chief needs a user."))
        _require_volunteer(user, "user_id")
    elif kind == StewardAssignment.Kind.TEAM:
        if team is None or user is not None:
            raise invalid("team_id", "required", T("请指定河小二队伍。", "A team assignment needs a team."))
        if team.organisation_id != organisation.pk:
            raise invalid(
                "team_id",
                "other_organisation",
                T("队伍不属于该组织。", "The team belongs to another organisation."),
            )
    else:
        raise invalid("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))


def steward_assign(
    *,
    actor: Any,
    segment: RiverSegment,
    organisation: Any,
    kind: str,
    user: Any = None,
    team: StewardTeam | None = None,
) -> StewardAssignment:
    """Assign a volunteer river chief or a 河小二 team of ``organisation`` to ``segment``, which
    must lie inside the organisation's area (its division or below: 403 ``segment_outside_area``).
    """
    if not division_within(segment.division_id, organisation.division_id):
        raise SegmentOutsideArea()
    _check_steward(kind=kind, organisation=organisation, user=user, team=team)
    with transaction.atomic():
        live = StewardAssignment.objects.filter(segment=segment, ended_at__isnull=True)
        if (user is not None and live.filter(user=user).exists()) or (
            team is not None and live.filter(team=team).exists()
        ):
            raise ValidationFailed(
                errors=[
                    field_error(
                        "kind",
                        "already_assigned",
                        T("已经是该河段的巡河人员。", "Already assigned to this segment."),
                    )
                ]
            )
        assignment = StewardAssignment.objects.create(
            segment=segment, organisation=organisation, kind=kind, user=user, team=team, assigned_by=actor
        )
        audit_record(
            actor=actor,
            action="river_steward.assigned",
            target=assignment,
            data={
                "segment": segment.pk,
                "kind": kind,
                "user": getattr(user, "pk", None),
                "team": getattr(team, "pk", None),
            },
        )
    return assignment


def steward_assignment_end(*, actor: Any, assignment: StewardAssignment) -> StewardAssignment:
    with transaction.atomic():
        updated = StewardAssignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if updated:
            audit_record(actor=actor, action="river_steward.ended", target=assignment)
    assignment.refresh_from_db()
    return assignment
