"""Staff views of events and the check-in log. Scans are read-only here: the log is append-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from backend.checkin import services
from backend.checkin.models import Checkin, CheckinList, Event, Pass


class CheckinListInline(admin.TabularInline):
    model = CheckinList
    extra = 0
    fields = (
        "name",
        "include_volunteers",
        "include_attendees",
        "allow_multiple_entries",
        "allow_entry_after_exit",
        "checked_in",
        "inside",
    )
    readonly_fields = ("checked_in", "inside")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "organisation", "starts_at", "ends_at", "closed_at")
    list_filter = ("closed_at",)
    search_fields = ("title",)
    raw_id_fields = ("organisation", "venue_post", "created_by")
    filter_horizontal = ("shifts",)
    readonly_fields = ("closed_at", "created_at")
    inlines = [CheckinListInline]


@admin.register(Pass)
class PassAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "kind", "masked_name", "status", "blocked", "first_entry_at")
    list_filter = ("kind", "status", "blocked")
    raw_id_fields = ("event", "holder", "signup", "shift", "created_by")
    exclude = ("secret",)
    readonly_fields = (
        "token_id",
        "status",
        "voided_at",
        "first_entry_at",
        "inside_lists",
        "inside_since",
        "stay_seq",
    )
    actions = ["void_passes", "reissue_passes"]

    @admin.display(description="holder")
    def masked_name(self, obj: Pass) -> str:
        return obj.masked_name

    def has_add_permission(self, request: Any) -> bool:
        return False  # passes come from sign-ups and the API (they need a signed secret)

    @admin.action(description="Void selected passes")
    def void_passes(self, request: Any, queryset: Any) -> None:
        for pass_obj in queryset:
            services.pass_void(pass_obj=pass_obj, by=request.user, reason="admin")

    @admin.action(description="Re-issue selected passes (old QR stops working)")
    def reissue_passes(self, request: Any, queryset: Any) -> None:
        for pass_obj in queryset.filter(status=Pass.Status.VALID):
            services.pass_reissue(pass_obj=pass_obj, by=request.user)


@admin.register(Checkin)
class CheckinAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "seq",
        "kind",
        "status",
        "reason",
        "scanned_at",
        "received_at",
        "late",
        "source",
        "device",
    )
    list_filter = ("status", "reason", "kind", "late", "source")
    raw_id_fields = ("event", "pass_obj", "list", "scanner")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
