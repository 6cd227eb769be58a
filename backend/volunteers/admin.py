"""Django admin for staff: browse volunteers' data (ID numbers masked), approve hours through the
same service as the API. Sign-ups are read-only here: places change only through the services."""

from __future__ import annotations

from django.contrib import admin, messages

from backend.core.crypto import unseal
from backend.core.errors import DomainError
from backend.core.i18n import ZH
from backend.core.masking import mask_id_number, mask_phone
from backend.core.permissions import can
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
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "division", "contact_name", "is_active")
    search_fields = ("name",)


@admin.register(ServicePost)
class ServicePostAdmin(admin.ModelAdmin):
    list_display = ("name", "division", "host", "organisation", "is_active")
    search_fields = ("name", "host")


class ShiftInline(admin.TabularInline):
    model = Shift
    fields = ("starts_at", "ends_at", "capacity", "taken", "waitlist_size", "waitlisted", "status")
    readonly_fields = ("taken", "waitlisted")
    extra = 0


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("title", "programme", "organisation", "status", "risk_level")
    list_filter = ("programme", "status", "risk_level")
    search_fields = ("title",)
    inlines = [ShiftInline]


@admin.register(ShiftSeries)
class ShiftSeriesAdmin(admin.ModelAdmin):
    list_display = ("activity", "weekdays", "start_time", "end_time", "starts_on", "ends_on")


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ("id", "shift", "user", "status", "created_at", "confirm_by")
    list_filter = ("status",)
    list_select_related = ("shift", "user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.action(description="批准所选时数记录")
def approve_records(modeladmin, request, queryset) -> None:
    done = 0
    for record in queryset:
        if not (request.user.is_superuser or can(request.user, Action.RECORD_DECIDE, record)):
            messages.warning(request, f"{record.pk}: 没有权限")
            continue
        try:
            services.service_record_decide(record=record, by=request.user, approve=True)
            done += 1
        except DomainError as exc:
            messages.warning(request, f"{record.pk}: {exc.text.get(ZH)}")
    messages.info(request, f"已批准 {done} 条记录")


@admin.register(ServiceRecord)
class ServiceRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "organisation", "service_date", "hours", "kind", "status", "source")
    list_filter = ("status", "kind", "source")
    list_select_related = ("user", "organisation")
    readonly_fields = [f.name for f in ServiceRecord._meta.fields]
    actions = [approve_records]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("number", "holder_name_masked", "organisation", "hours", "issued_at")
    readonly_fields = [f.name for f in Certificate._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
