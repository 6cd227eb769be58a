"""Staff views of events and the check-in log: coordinators see the events they run and void or
re-issue passes there (through the services, each row checked against the API's rule); platform
admins see all. Scans are read-only here: the log is append-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet

from backend.accounts.adminsite import ScopedAdmin, run_per_row
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_scope_ids
from backend.checkin import services
from backend.checkin.models import Checkin, CheckinList, Event, Pass
from backend.checkin.permissions import Action


def _ids(user: Any, scope_type: str) -> list[int]:
    return [int(x) for x in user_scope_ids(user, Role.COORDINATOR, scope_type) if x.isdigit()]


class EventScoped(ScopedAdmin):
    """Rows of the events the user coordinates: their organisations' events and events they
    coordinate themselves (``event_field`` names the path to the event)."""

    staff_roles = (Role.COORDINATOR,)
    event_field = "event"

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        prefix = f"{self.event_field}__" if self.event_field else ""
        return qs.filter(
            Q(**{f"{prefix}organisation_id__in": _ids(user, ScopeType.ORGANISATION)})
            | Q(**{f"{prefix}pk__in": _ids(user, ScopeType.EVENT)})
        )


class CheckinListInline(admin.TabularInline):
    model = CheckinList
    extra = 0
    fields = (
        "name",
        "include_volunteers",
        "include_attendees",
        "allow_multiple_entries",
        "allow_entry_after_exit",
        "auto_checkout_at",
        "checked_in",
        "inside",
        "auto_checked_out",
    )
    readonly_fields = ("checked_in", "inside", "auto_checked_out")


@admin.register(Event)
class EventAdmin(EventScoped):
    list_display = ("id", "title", "organisation", "starts_at", "ends_at", "closed_at")
    list_filter = ("closed_at",)
    search_fields = ("title",)
    raw_id_fields = ("organisation", "venue_post", "created_by")
    filter_horizontal = ("shifts",)
    readonly_fields = ("closed_at", "created_at")
    inlines = [CheckinListInline]
    event_field = ""

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is CheckinList and (
            formset.new_objects or formset.changed_objects or formset.deleted_objects
        ):
            services.checkin_list_rules_changed(event=form.instance, by=request.user)


@admin.register(Pass)
class PassAdmin(EventScoped):
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
    staff_change = True  # the actions

    def save_model(self, request: Any, obj: Pass, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            services.pass_edited(pass_obj=obj, by=request.user)

    @admin.display(description="holder")
    def masked_name(self, obj: Pass) -> str:
        return obj.masked_name

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        if request.user.is_superuser or request.user.has_perm("checkin.change_pass"):
            return self.readonly_fields
        return [f.name for f in Pass._meta.fields if f.name != "secret"]

    def has_add_permission(self, request: Any) -> bool:
        return False  # passes come from sign-ups and the API (they need a signed secret)

    @admin.action(description="作废所选凭证 Void selected passes")
    def void_passes(self, request: Any, queryset: Any) -> None:
        run_per_row(
            self,
            request,
            queryset.select_related("event"),
            action=Action.EVENT_MANAGE,
            subject=lambda p: p.event,
            call=lambda p: services.pass_void(pass_obj=p, by=request.user, reason="admin"),
            done="已作废",
        )

    @admin.action(description="重新签发所选凭证（旧二维码失效） Re-issue selected passes")
    def reissue_passes(self, request: Any, queryset: Any) -> None:
        run_per_row(
            self,
            request,
            queryset.filter(status=Pass.Status.VALID).select_related("event"),
            action=Action.EVENT_MANAGE,
            subject=lambda p: p.event,
            call=lambda p: services.pass_reissue(pass_obj=p, by=request.user),
            done="已重新签发",
        )


@admin.register(Checkin)
class CheckinAdmin(EventScoped):
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
