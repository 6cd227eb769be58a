"""Platform admins' pages for accounts: people, their roles (granted and revoked through the
same services as ``/api/v1/grants``), sign-in sessions (ended through the logout service) and
account cancellations. No passwords: staff sign in with a one-time code (adminsite.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.shortcuts import redirect

from backend.accounts import services
from backend.accounts.adminsite import error_text
from backend.accounts.models import AccountCancellation, AuthSession, Grant, User
from backend.accounts.services.grants import grant_create_check
from backend.core.errors import DomainError
from backend.core.masking import mask_phone


class GrantInline(admin.TabularInline):
    model = Grant
    fk_name = "user"
    extra = 0
    fields = ("role", "scope_type", "scope_id", "granted_by", "created_at", "valid_until")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # roles are granted on the Grants page (through the service)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    ordering = ("phone",)
    list_display = ("phone", "display_name", "is_active", "is_staff", "date_joined")
    search_fields = ("phone", "display_name")
    list_filter = ("is_active", "is_staff")
    fields = ("phone", "display_name", "is_active", "is_staff", "is_superuser", "firebase_uid", "date_joined")
    readonly_fields = ("phone", "is_active", "is_staff", "is_superuser", "firebase_uid", "date_joined")
    inlines = [GrantInline]
    actions = ["disable_accounts"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts come from signing in to the app

    @admin.action(description="停用所选账号（结束全部登录与连接）/ Disable (ends every session and socket)")
    def disable_accounts(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for user in queryset.filter(is_active=True):
            services.account_disable(user=user, by=request.user)  # type: ignore[arg-type]
            done += 1
        self.message_user(request, f"{done}", messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # people cancel their own accounts (POST /api/v1/me/cancel)


class GrantForm(forms.ModelForm):
    class Meta:
        model = Grant
        fields = ("user", "role", "scope_type", "scope_id", "valid_until")

    by: Any = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            grant_create_check(
                by=self.by,
                role=data.get("role") or "",
                scope_type=data.get("scope_type") or "",
                scope_id=data.get("scope_id") or "",
                valid_until=data.get("valid_until"),
            )
        except DomainError as exc:
            raise forms.ValidationError(error_text(exc)) from exc
        return data


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    """Grant through ``grant_create``, revoke through ``grant_withdraw`` (the deletion here),
    both audited; a revocation takes effect at the person's next request."""

    list_display = ("user", "role", "scope_type", "scope_id", "granted_by", "created_at", "valid_until")
    list_filter = ("role", "scope_type")
    search_fields = ("user__phone", "scope_id")
    raw_id_fields = ("user",)
    form = GrantForm
    actions = ("revoke",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.by = request.user  # type: ignore[attr-defined]
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a grant is given or revoked, never edited in place

    def get_actions(self, request: HttpRequest) -> Any:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # revoking goes through the service (the action below)
        return found

    def save_model(self, request: HttpRequest, obj: Grant, form: Any, change: bool) -> None:
        grant, _ = services.grant_create(
            by=request.user,  # type: ignore[arg-type]
            user=obj.user,
            role=obj.role,
            scope_type=obj.scope_type,
            scope_id=obj.scope_id,
            valid_until=obj.valid_until,
        )
        obj.pk = grant.pk

    def delete_model(self, request: HttpRequest, obj: Grant) -> None:
        services.grant_withdraw(grant=obj, by=request.user)  # type: ignore[arg-type]

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return redirect("admin:accounts_grant_changelist")

    @admin.action(description="撤销所选角色 Revoke", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for grant in queryset.select_related("user"):
            try:
                services.grant_withdraw(grant=grant, by=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                self.message_user(request, f"{grant}：{error_text(exc)}", messages.ERROR)
                continue
            done += 1
        if done:
            self.message_user(request, f"已撤销 {done} 项", messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "method", "created_at", "revoked_at", "ip")
    list_filter = ("method",)
    search_fields = ("user__phone",)
    readonly_fields = ("user", "method", "created_at", "revoked_at", "user_agent", "ip")
    actions = ("end_sessions",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="结束所选会话（立即退出） End sessions", permissions=["change"])
    def end_sessions(self, request: HttpRequest, queryset: Any) -> None:
        for session in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.session_logout(session=session)
        self.message_user(request, "已结束", messages.SUCCESS)


@admin.register(AccountCancellation)
class AccountCancellationAdmin(admin.ModelAdmin):
    """Read-only: people cancel their own accounts; the record names only the pseudonym."""

    list_display = ("id", "who", "requested_at", "effective_at", "withdrawn_at", "completed_at", "pseudonym")
    list_filter = (("completed_at", admin.EmptyFieldListFilter), ("withdrawn_at", admin.EmptyFieldListFilter))
    readonly_fields = ("requested_at", "effective_at", "withdrawn_at", "completed_at", "pseudonym")
    exclude = ("user",)

    @admin.display(description="账号 Account")
    def who(self, obj: AccountCancellation) -> str:
        return obj.pseudonym or mask_phone(obj.user.phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
