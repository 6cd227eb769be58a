"""Django admin for staff: associations, practitioners (ID numbers never shown), credentials,
blacklist, and the read-only lookup log. Changes of status go through the services (audited)."""

from __future__ import annotations

from django.contrib import admin, messages

from backend.core.masking import mask_name, mask_phone
from backend.credentials import services
from backend.credentials.models import (
    Association,
    BlacklistEntry,
    Credential,
    CreditRecord,
    LookupLog,
    Practitioner,
)


@admin.register(Association)
class AssociationAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "short_name", "uscc", "created_at")
    search_fields = ("name", "short_name", "uscc")


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ("id", "masked_name", "association", "employer", "masked_mobile", "status")
    list_filter = ("status", "association")
    search_fields = ("name", "employer")
    exclude = ("id_number_sealed", "id_number_index")
    readonly_fields = ("photo", "photo_thumb", "created_at", "updated_at")

    @admin.display(description="姓名")
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description="手机")
    def masked_mobile(self, obj):
        return mask_phone(obj.mobile)

    def has_add_permission(self, request):  # registration validates and seals the ID number: use the API
        return False


@admin.action(description="暂停所选证件（原因：管理员操作）")
def suspend(modeladmin, request, queryset):
    for credential in queryset.filter(status=Credential.Status.VALID):
        services.credential_suspend(actor=request.user, credential=credential, reason="管理后台暂停")
    messages.success(request, "已暂停")


@admin.action(description="吊销所选证件（原因：管理员操作）")
def revoke(modeladmin, request, queryset):
    for credential in queryset.exclude(status=Credential.Status.REVOKED):
        services.credential_revoke(actor=request.user, credential=credential, reason="管理后台吊销")
    messages.success(request, "已吊销")


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ("id", "certificate_no", "association", "type", "valid_until", "status")
    list_filter = ("status", "association", "type")
    search_fields = ("certificate_no",)
    readonly_fields = [f.name for f in Credential._meta.fields]
    actions = [suspend, revoke]

    def has_add_permission(self, request):
        return False


@admin.register(CreditRecord)
class CreditRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "practitioner_id", "date", "kind")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in CreditRecord._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "practitioner_id", "listed_on", "basis", "lifted_at")
    readonly_fields = [f.name for f in BlacklistEntry._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(LookupLog)
class LookupLogAdmin(admin.ModelAdmin):
    list_display = ("at", "result", "channel", "token_id", "credential_id", "client_net", "client_kind")
    list_filter = ("result", "channel", "client_kind")
    readonly_fields = [f.name for f in LookupLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
