from django.contrib import admin

from backend.notifications.models import DeliveryAttempt, Device, Notification, Preference, ScheduledJob


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "title", "created_at", "read_at", "push_state", "push_attempts")
    list_filter = ("category", "push_state", "urgent")
    search_fields = ("kind", "title", "user__phone")
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "platform", "token_type", "created_at", "last_seen_at")
    list_filter = ("platform", "token_type")
    search_fields = ("user__phone",)
    exclude = ("token",)  # an address to push to: not for display
    raw_id_fields = ("user", "session")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "notification", "attempt", "outcome", "error_code", "created_at", "finished_at")
    list_filter = ("outcome", "error_code")
    raw_id_fields = ("notification", "device")


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "quiet_hours", "muted_kinds", "updated_at")
    raw_id_fields = ("user",)


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = ("name", "next_run_at", "last_status", "last_finished_at", "lease_owner", "runs")
    list_filter = ("last_status",)
