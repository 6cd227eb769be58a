"""Django admin: reviewers (division staff) read the river segments and issues of their divisions
here; the issue workflow runs through the API's services (audited and notified). Platform admins
see everything."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet

from backend.accounts.adminsite import ScopedAdmin
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_scope_ids
from backend.rivers.models import (
    Patrol,
    PatrolPolicy,
    River,
    RiverIssue,
    RiverSegment,
    StewardAssignment,
    StewardTeam,
)


@admin.register(River)
class RiverAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


class DivisionScoped(ScopedAdmin):
    """Rows in the divisions (and below) the user reviews."""

    staff_roles = (Role.REVIEWER,)

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        q = Q(pk__in=[])
        for code in user_scope_ids(user, Role.REVIEWER, ScopeType.DIVISION):
            q |= Q(division__code__startswith=code)
        return qs.filter(q)


@admin.register(RiverSegment)
class RiverSegmentAdmin(DivisionScoped):
    list_display = ("river", "name", "division", "length_m", "patrol_every_days")
    list_select_related = ("river", "division")
    raw_id_fields = ("river", "division")


@admin.register(PatrolPolicy)
class PatrolPolicyAdmin(admin.ModelAdmin):
    list_display = ("division", "min_duration_s", "min_distance_m", "updated_at")
    raw_id_fields = ("division", "updated_by")


@admin.register(StewardTeam)
class StewardTeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    raw_id_fields = ("organisation",)


@admin.register(StewardAssignment)
class StewardAssignmentAdmin(admin.ModelAdmin):
    list_display = ("segment", "kind", "organisation", "user", "team", "created_at", "ended_at")
    raw_id_fields = ("segment", "organisation", "user", "team", "assigned_by")


@admin.register(Patrol)
class PatrolAdmin(admin.ModelAdmin):
    """Read-only: figures are computed by the services; the track itself is not shown here."""

    list_display = ("id", "segment", "user", "status", "is_valid", "distance_m", "duration_s", "started_at")
    list_filter = ("status", "is_valid", "source")
    exclude = ("track",)
    readonly_fields = [f.name for f in Patrol._meta.fields if f.name != "track"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RiverIssue)
class RiverIssueAdmin(DivisionScoped):
    """Read-only: the workflow runs through the services (audited and notified)."""

    list_display = ("id", "type", "status", "river", "division", "reported_at", "due_at", "overdue_at")
    list_filter = ("status", "type")
    readonly_fields = [f.name for f in RiverIssue._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
