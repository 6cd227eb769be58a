from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from backend.accounts.models import AuthSession, Grant, User


class GrantInline(admin.TabularInline):
    model = Grant
    fk_name = "user"
    extra = 0
    fields = ("role", "scope_type", "scope_id", "granted_by", "created_at")
    readonly_fields = ("granted_by", "created_at")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("phone",)
    list_display = ("phone", "display_name", "is_active", "is_staff", "date_joined")
    search_fields = ("phone", "display_name")
    list_filter = ("is_active", "is_staff")
    fieldsets = (
        (None, {"fields": ("phone", "display_name", "password")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "firebase_uid", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("phone", "display_name", "password1", "password2")}),
    )
    readonly_fields = ("firebase_uid", "date_joined")
    inlines = [GrantInline]
    filter_horizontal = ()


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "scope_type", "scope_id", "created_at")
    list_filter = ("role", "scope_type")
    search_fields = ("user__phone", "scope_id")
    raw_id_fields = ("user", "granted_by")


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "method", "created_at", "revoked_at", "ip")
    list_filter = ("method",)
    search_fields = ("user__phone",)
    readonly_fields = ("user", "method", "created_at", "revoked_at", "user_agent", "ip")
