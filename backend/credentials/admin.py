"""Django admin: association admins keep their association's practitioners, credentials, credit
records and blacklist here (ID numbers never shown); status changes and blacklist lifts go through
the services (audited), each checked against the API's rule; badges print from the credential's
page. Platform admins see every association and the read-only lookup log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from backend.accounts.adminsite import ScopedAdmin, run_with_reason
from backend.accounts.models import Role, ScopeType
from backend.accounts.selectors import user_scope_ids
from backend.core.errors import NotFound
from backend.core.masking import mask_name, mask_phone
from backend.credentials import badges, services
from backend.credentials.models import (
    Association,
    BlacklistEntry,
    Credential,
    CreditRecord,
    LookupLog,
    Practitioner,
)
from backend.credentials.permissions import Action, credential_access


def _associations(user: Any) -> list[int]:
    return [
        int(a) for a in user_scope_ids(user, Role.ASSOCIATION_ADMIN, ScopeType.ASSOCIATION) if a.isdigit()
    ]


class AssociationScoped(ScopedAdmin):
    staff_roles = (Role.ASSOCIATION_ADMIN,)
    association_field = "association_id"

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        return qs.filter(**{f"{self.association_field}__in": _associations(user)})


@admin.register(Association)
class AssociationAdmin(AssociationScoped):
    list_display = ("id", "name", "short_name", "uscc", "created_at")
    search_fields = ("name", "short_name", "uscc")
    association_field = "pk"


@admin.register(Practitioner)
class PractitionerAdmin(AssociationScoped):
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


@admin.register(Credential)
class CredentialAdmin(AssociationScoped):
    list_display = ("id", "certificate_no", "association", "type", "valid_until", "status", "badge")
    list_filter = ("status", "association", "type")
    search_fields = ("certificate_no",)
    readonly_fields = [*(f.name for f in Credential._meta.fields), "badge"]
    list_select_related = ("association",)
    actions = ("suspend", "revoke", "reinstate")
    staff_change = True  # the actions; every field stays read-only

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        badge = self.admin_site.admin_view(self.badge_view)
        return [
            path("<int:credential_id>/badge.png", badge, name="credentials_credential_badge"),
            *super().get_urls(),
        ]

    def badge_view(self, request: HttpRequest, credential_id: int) -> HttpResponse:
        """The printable badge (PNG, 300 dpi), for whoever may manage the credential."""
        try:
            credential = credential_access(user=request.user, credential_id=credential_id)
        except NotFound:
            return HttpResponse(status=404)
        response = HttpResponse(badges.credential_badge_png(credential), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="badge-{credential.certificate_no}.png"'
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.display(description="胸卡 Badge")
    def badge(self, obj: Credential) -> str:
        url = reverse("admin:credentials_credential_badge", args=[obj.pk], current_app=self.admin_site.name)
        return format_html('<a href="{}">打印胸卡 PNG</a>', url)

    def _transition(self, request, queryset, *, name: str, title: str, call, done: str):
        return run_with_reason(
            self,
            request,
            queryset,
            name=name,
            title=title,
            action=Action.ASSOCIATION_MANAGE,
            call=call,
            done=done,
        )

    @admin.action(description="暂停所选证件（填写理由）")
    def suspend(self, request, queryset):
        return self._transition(
            request,
            queryset,
            name="suspend",
            title="暂停证件",
            done="已暂停",
            call=lambda c, reason: services.credential_suspend(
                actor=request.user, credential=c, reason=reason
            ),
        )

    @admin.action(description="吊销所选证件（填写理由）")
    def revoke(self, request, queryset):
        return self._transition(
            request,
            queryset,
            name="revoke",
            title="吊销证件",
            done="已吊销",
            call=lambda c, reason: services.credential_revoke(
                actor=request.user, credential=c, reason=reason
            ),
        )

    @admin.action(description="恢复所选证件（填写理由）")
    def reinstate(self, request, queryset):
        return self._transition(
            request,
            queryset,
            name="reinstate",
            title="恢复证件",
            done="已恢复",
            call=lambda c, reason: services.credential_reinstate(
                actor=request.user, credential=c, reason=reason
            ),
        )


@admin.register(CreditRecord)
class CreditRecordAdmin(AssociationScoped):
    list_display = ("id", "practitioner_id", "date", "kind")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in CreditRecord._meta.fields]
    association_field = "practitioner__association_id"

    def has_add_permission(self, request):
        return False


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(AssociationScoped):
    list_display = ("id", "practitioner_id", "listed_on", "basis", "lifted_at")
    readonly_fields = [f.name for f in BlacklistEntry._meta.fields]
    association_field = "practitioner__association_id"
    actions = ("lift",)
    staff_change = True  # the lift action; every field stays read-only

    def has_add_permission(self, request):
        return False

    @admin.action(description="解除所选黑名单（填写理由）")
    def lift(self, request, queryset):
        return run_with_reason(
            self,
            request,
            queryset.select_related("practitioner"),
            name="lift",
            title="解除黑名单",
            action=Action.ASSOCIATION_MANAGE,
            done="已解除",
            subject=lambda e: e.practitioner,
            call=lambda e, reason: services.blacklist_lift(actor=request.user, entry=e, reason=reason),
        )


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
