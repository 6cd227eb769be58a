"""Platform admins' pages for what core keeps: the audit log (read-only) and the signing keys
(rotated and revoked through ``backend.core.keys``, as ``manage.py rotate_signing_keys`` does)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from backend.core import keys
from backend.core.models import AuditLog, SigningKey


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor__phone", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """Keys are made, retired and revoked only by ``backend.core.keys`` (audited); the private
    halves are never shown."""

    list_display = ("kid", "purpose", "status", "created_at", "retired_at", "revoked_at", "last_expiry")
    list_filter = ("purpose", "status")
    exclude = ("private_key_sealed",)
    readonly_fields = [f.name for f in SigningKey._meta.fields if f.name != "private_key_sealed"]
    actions = ("rotate", "revoke")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="轮换所选密钥的用途（旧密钥继续验证） Rotate", permissions=["change"])
    def rotate(self, request, queryset):
        for purpose in sorted(set(queryset.values_list("purpose", flat=True))):
            row = keys.key_rotate(purpose=purpose, actor=request.user)
            self.message_user(request, f"{purpose}: 新密钥 kid {row.kid}", messages.SUCCESS)

    @admin.action(description="吊销所选密钥（填写理由；其签发的令牌全部失效） Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not (request.POST.get("apply") and reason):
            return TemplateResponse(
                request,
                "admin/linli_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "吊销签名密钥 Revoke signing keys",
                    "queryset": queryset,
                    "action": "revoke",
                    "opts": self.model._meta,
                },
            )
        for row in queryset:
            keys.key_revoke(kid=row.kid, reason=reason, actor=request.user)
            self.message_user(request, f"kid {row.kid} 已吊销", messages.SUCCESS)
        return None
