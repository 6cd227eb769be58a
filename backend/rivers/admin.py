from django.contrib import admin

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


@admin.register(RiverSegment)
class RiverSegmentAdmin(admin.ModelAdmin):
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
class RiverIssueAdmin(admin.ModelAdmin):
    """Read-only: the workflow runs through the services (audited and notified)."""

    list_display = ("id", "type", "status", "river", "division", "reported_at", "due_at", "overdue_at")
    list_filter = ("status", "type")
    readonly_fields = [f.name for f in RiverIssue._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
