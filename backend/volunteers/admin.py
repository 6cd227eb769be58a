"""Django admin: coordinators run their organisation's activities (publish), rosters (no-shows)
and hours (approve, reject) here through the same services as the API, each row checked against
the API's rule; platform admins browse everything (ID numbers masked). Sign-ups are read-only:
places change only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet

from backend.accounts.adminsite import ScopedAdmin, run_per_row, run_with_reason
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_scope_ids
from backend.core.crypto import unseal
from backend.core.masking import mask_id_number, mask_phone
from backend.volunteers import services
from backend.volunteers.models import (
    ID_PURPOSE,
    Activity,
    Certificate,
    Organisation,
    ServicePost,
    ServiceRecord,
    Shift,
    ShiftSeries,
    Signup,
    VolunteerProfile,
)
from backend.volunteers.permissions import Action
from backend.volunteers.search import activity_index, activity_location


def person_shown(user: Any) -> str:
    """A person as staff lists show them: display name, else the masked phone."""
    return user.display_name or mask_phone(user.phone)


def _organisations(user: Any) -> list[int]:
    return [int(o) for o in user_scope_ids(user, Role.COORDINATOR, ScopeType.ORGANISATION) if o.isdigit()]


class CoordinatorScoped(ScopedAdmin):
    """Rows of the organisations the user coordinates (``organisation_field`` names the path)."""

    staff_roles = (Role.COORDINATOR,)
    organisation_field = "organisation_id"

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        return qs.filter(**{f"{self.organisation_field}__in": _organisations(user)})


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ("volunteer_no", "real_name", "id_masked", "mobile_masked", "division", "banned_until")
    search_fields = ("volunteer_no", "real_name")
    exclude = ("id_number_sealed", "id_number_index", "mobile", "guardian_mobile")
    readonly_fields = (
        "user",
        "volunteer_no",
        "id_masked",
        "mobile_masked",
        "birth_date",
        "gender",
        "created_at",
    )
    list_select_related = ("division",)

    @admin.display(description="证件号码")
    def id_masked(self, obj: VolunteerProfile) -> str:
        return mask_id_number(unseal(obj.id_number_sealed, purpose=ID_PURPOSE))

    @admin.display(description="手机")
    def mobile_masked(self, obj: VolunteerProfile) -> str:
        return mask_phone(obj.mobile)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(CoordinatorScoped):
    list_display = ("name", "division", "contact_name", "is_active")
    search_fields = ("name",)
    organisation_field = "pk"


@admin.register(ServicePost)
class ServicePostAdmin(admin.ModelAdmin):
    list_display = ("name", "division", "host", "organisation", "is_active")
    search_fields = ("name", "host")


class ShiftInline(admin.TabularInline):
    model = Shift
    fields = ("starts_at", "ends_at", "capacity", "taken", "waitlist_size", "waitlisted", "status")
    readonly_fields = ("taken", "waitlisted")
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser or request.user.has_perm("volunteers.change_shift"):
            return self.readonly_fields
        return self.fields  # coordinators: shifts change through the app (capacity, waitlist)


@admin.register(Activity)
class ActivityAdmin(CoordinatorScoped):
    list_display = ("title", "programme", "organisation", "status", "risk_level")
    list_filter = ("programme", "status", "risk_level")
    search_fields = ("title",)
    inlines = [ShiftInline]
    actions = ("publish",)
    staff_change = True  # the publish action; coordinators' fields are read-only

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser or request.user.has_perm("volunteers.change_activity"):
            return self.readonly_fields
        return [f.name for f in Activity._meta.fields]

    def save_model(self, request, obj, form, change):
        """A platform admin's edit keeps the search index (text, skills, place) in step."""
        with transaction.atomic():
            for name, value in activity_location(obj.post).items():
                setattr(obj, name, value)
            super().save_model(request, obj, form, change)
            activity_index(activity=obj, created=not change)

    @admin.action(description="发布所选活动 Publish")
    def publish(self, request, queryset):
        run_per_row(
            self,
            request,
            queryset,
            action=Action.ACTIVITY_MANAGE,
            call=lambda a: services.activity_publish(activity=a, by=request.user),
            done="已发布",
        )


@admin.register(ShiftSeries)
class ShiftSeriesAdmin(admin.ModelAdmin):
    list_display = ("activity", "weekdays", "start_time", "end_time", "starts_on", "ends_on")


@admin.register(Signup)
class SignupAdmin(CoordinatorScoped):
    list_display = ("id", "shift", "volunteer", "status", "created_at", "confirm_by")
    list_filter = ("status",)
    list_select_related = ("shift", "user")
    organisation_field = "shift__activity__organisation_id"
    actions = ("no_show",)

    @admin.display(description="志愿者 Volunteer")
    def volunteer(self, obj: Signup) -> str:
        return person_shown(obj.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="标记所选为缺席 No-show")
    def no_show(self, request, queryset):
        run_per_row(
            self,
            request,
            queryset.select_related("shift__activity"),
            action=Action.ATTENDANCE_RECORD,
            call=lambda s: services.signup_mark_no_show(signup=s, by=request.user),
            done="已标记缺席",
        )


@admin.action(description="批准所选时数记录")
def approve_records(modeladmin, request, queryset) -> None:
    run_per_row(
        modeladmin,
        request,
        queryset,
        action=Action.RECORD_DECIDE,
        call=lambda r: services.service_record_decide(record=r, by=request.user, approve=True),
        done="已批准",
    )


@admin.action(description="驳回所选时数记录（填写理由）")
def reject_records(modeladmin, request, queryset):
    return run_with_reason(
        modeladmin,
        request,
        queryset,
        name="reject_records",
        title="驳回时数记录",
        action=Action.RECORD_DECIDE,
        done="已驳回",
        call=lambda r, reason: services.service_record_decide(
            record=r, by=request.user, approve=False, reason=reason
        ),
    )


@admin.register(ServiceRecord)
class ServiceRecordAdmin(CoordinatorScoped):
    list_display = ("id", "volunteer", "organisation", "service_date", "hours", "kind", "status", "source")
    list_filter = ("status", "kind", "source")
    list_select_related = ("user", "organisation")
    readonly_fields = [f.name for f in ServiceRecord._meta.fields if f.name != "user"] + ["volunteer"]
    exclude = ("user",)

    @admin.display(description="志愿者 Volunteer")
    def volunteer(self, obj: ServiceRecord) -> str:
        return person_shown(obj.user)

    actions = [approve_records, reject_records]
    staff_change = True  # the decisions; every field stays read-only

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(CoordinatorScoped):
    list_display = ("number", "holder_name_masked", "organisation", "hours", "issued_at")
    readonly_fields = [f.name for f in Certificate._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
