"""Django admin for reviewers and staff: the same decisions as the API, through the same services.

Reviewers (staff users with reviewer grants) see the filings, groups and listings of their own
jurisdiction; superusers and platform admins see all. Nothing can be deleted here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from backend.accounts.adminsite import ScopedAdmin
from backend.accounts.models import Role
from backend.accounts.selectors import user_has_role, user_is_platform_admin
from backend.core.errors import DomainError
from backend.core.i18n import ZH
from backend.core.permissions import can
from backend.core.validators import InvalidUscc, parse_uscc
from backend.filings import selectors, services
from backend.filings.models import (
    AnnualReport,
    AttachmentKind,
    CreditListing,
    Filing,
    FilingAttachment,
    FilingEvent,
    FilingPolicy,
    Group,
    RegisteredOrganisation,
    WorkCalendarDay,
)
from backend.filings.permissions import Action


class FilingPolicyForm(forms.ModelForm):
    class Meta:
        model = FilingPolicy
        fields = (
            "division",
            "min_founders",
            "min_members",
            "required_attachments",
            "review_days",
            "review_working_days",
            "validity_years",
            "renewal_window_days",
            "reviewing_level",
            "annual_report_due_month",
            "annual_report_due_day",
        )

    def clean_required_attachments(self):
        value = self.cleaned_data.get("required_attachments")
        if value is not None and services.unknown_attachment_kinds(value) is not None:
            raise ValidationError(f"材料类型须为以下之一：{', '.join(AttachmentKind.values)}")
        return value


class RegisteredOrganisationForm(forms.ModelForm):
    class Meta:
        model = RegisteredOrganisation
        fields = ("name", "uscc", "division_code", "status", "status_changed_on")

    def clean_uscc(self):
        try:
            return parse_uscc(self.cleaned_data["uscc"]).code
        except InvalidUscc as exc:
            raise ValidationError("统一社会信用代码无效") from exc


def _sees_all(request: HttpRequest) -> bool:
    user: Any = request.user
    return user.is_superuser or user_is_platform_admin(user)


def _error_text(exc: DomainError) -> str:
    body = exc.body(ZH)
    errors = body["details"].get("errors") if isinstance(body["details"], dict) else None
    if errors:
        return (
            body["message"]
            + " "
            + "；".join(f"{e.get('field')}: {e.get('message', e.get('code'))}" for e in errors)
        )
    return body["message"]


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReviewerAdmin(admin.ModelAdmin):
    """Decisions of reviewers: rows of their own jurisdiction (``scope_column`` names the
    reviewing division's column), every field read-only, nothing added or deleted here, and
    actions that call the services after checking the API's permission rule on each row."""

    scope_column = ""
    rule: Action  # the API's permission rule each action is checked against, row by row

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _sees_all(request) else self.scoped(qs, request.user)

    def scoped(self, qs: QuerySet, user: Any) -> QuerySet:
        return qs.filter(selectors.reviewer_scope_q(user, self.scope_column))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # A reviewer grant is what lets a user work here (``get_queryset`` narrows the rows to their
    # jurisdiction and every action checks the API's rule): no Django model permissions to keep
    # in step with the grants. Others need the usual ones.
    def _reviews(self, request) -> bool:
        user: Any = request.user
        return user.is_active and user.is_staff and (_sees_all(request) or user_has_role(user, Role.REVIEWER))

    def has_module_permission(self, request) -> bool:
        return self._reviews(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._reviews(request) or super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._reviews(request) or super().has_change_permission(request, obj)

    def run_service(self, request, queryset, call: Callable[[Any], Any], done: str) -> None:
        """Call the service on each selected row the user may decide; report each refusal."""
        ok = 0
        for obj in queryset:
            if not can(request.user, self.rule, obj):
                self.message_user(request, f"{obj}：无权处理", messages.ERROR)
                continue
            try:
                call(obj)
            except DomainError as exc:
                self.message_user(request, f"{obj}：{_error_text(exc)}", messages.ERROR)
                continue
            ok += 1
        if ok:
            self.message_user(request, f"{done} {ok} 项", messages.SUCCESS)

    def run_with_reason(
        self,
        request,
        queryset,
        *,
        action: str,
        title: str,
        call: Callable[[Any, str, str], Any],
        done: str,
        with_field: bool = False,
    ) -> TemplateResponse | None:
        """Actions that need written reasons show a form first, then call the service with the
        reason (and the field to correct, ``with_field``)."""
        if request.POST.get("apply"):
            reason = request.POST.get("reason", "").strip()
            field = request.POST.get("field", "").strip()
            self.run_service(request, queryset, lambda obj: call(obj, reason, field), done)
            return None
        return TemplateResponse(
            request,
            "admin/filings/reasons.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "intro": "请写明理由，将告知申请人并记入审计日志。",
                "queryset": queryset,
                "action": action,
                "with_field": with_field,
                "submit_label": title,
                "opts": self.model._meta,
            },
        )


class ReviewersRead(ScopedAdmin):
    """City-wide reference data reviewers read (the calendar their deadlines count, the policies
    in force); platform admins edit it."""

    staff_roles = (Role.REVIEWER,)

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        return qs


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(ReviewersRead):
    list_display = ("day", "is_workday", "name", "source")
    list_filter = ("is_workday",)
    date_hierarchy = "day"
    search_fields = ("name",)


@admin.register(FilingPolicy)
class FilingPolicyAdmin(ReviewersRead):
    list_display = ("division", "min_founders", "min_members", "review_days", "reviewing_level", "updated_at")
    raw_id_fields = ("division",)
    search_fields = ("division__code", "division__name")
    form = FilingPolicyForm

    def save_model(self, request, obj, form, change) -> None:
        services.filing_policy_save(policy=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FilingEventInline(ReadOnlyMixin, admin.TabularInline):
    model = FilingEvent
    fields = ("at", "actor", "action", "from_status", "to_status", "reasons", "note")
    readonly_fields = fields
    extra = 0


class FilingAttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = FilingAttachment
    fields = ("kind", "content_type", "size", "width", "height", "created_at", "superseded_at")
    readonly_fields = fields
    extra = 0


@admin.register(Filing)
class FilingAdmin(ReviewerAdmin):
    list_display = ("id", "name", "kind", "status", "community", "due_date", "is_overdue", "submitted_at")
    list_filter = ("status", "kind")
    search_fields = ("name", "=id")
    list_select_related = ("community",)
    inlines = (FilingAttachmentInline, FilingEventInline)
    actions = ("accept", "approve", "request_correction", "reject")
    rule = Action.FILING_REVIEW

    def scoped(self, qs: QuerySet, user: Any) -> QuerySet:
        return qs & selectors.filing_review_queryset(user=user)

    @admin.display(boolean=True, description="超期")
    def is_overdue(self, obj: Filing) -> bool:
        return selectors.filing_is_overdue(obj)

    @admin.action(description="受理所选申请")
    def accept(self, request, queryset):
        self.run_service(
            request, queryset, lambda f: services.filing_accept(filing=f, actor=request.user), "已受理"
        )

    @admin.action(description="通过所选申请（发放备案编号）")
    def approve(self, request, queryset):
        self.run_service(
            request, queryset, lambda f: services.filing_approve(filing=f, actor=request.user), "已通过"
        )

    @admin.action(description="要求补正（填写理由）")
    def request_correction(self, request, queryset):
        return self.run_with_reason(
            request,
            queryset,
            action="request_correction",
            title="要求补正",
            with_field=True,
            done="已要求补正",
            call=lambda f, reason, field: services.filing_request_correction(
                filing=f, actor=request.user, reasons=[{"field": field or "other", "reason": reason}]
            ),
        )

    @admin.action(description="不予备案（填写理由）")
    def reject(self, request, queryset):
        return self.run_with_reason(
            request,
            queryset,
            action="reject",
            title="不予备案",
            done="已不予备案",
            call=lambda f, reason, field: services.filing_reject(
                filing=f, actor=request.user, reasons=[{"field": field, "reason": reason}]
            ),
        )


class CreditListingInline(ReadOnlyMixin, admin.TabularInline):
    model = CreditListing
    fk_name = "group"
    fields = ("list_kind", "reason", "listed_on", "fixed_on", "removal_due", "removed_on", "removal_reason")
    readonly_fields = fields
    extra = 0


@admin.register(Group)
class GroupAdmin(ReviewerAdmin):
    list_display = ("filing_number", "name", "category", "community", "status", "valid_until")
    list_filter = ("status", "category")
    search_fields = ("name", "filing_number")
    list_select_related = ("community",)
    inlines = (CreditListingInline,)
    actions = ("revoke",)
    scope_column = "issuing_division_code"
    rule = Action.ORG_REVIEW

    @admin.action(description="撤销备案（填写理由）")
    def revoke(self, request, queryset):
        return self.run_with_reason(
            request,
            queryset,
            action="revoke",
            title="撤销备案",
            done="已撤销",
            call=lambda g, reason, field: services.group_revoke(
                group=g, actor=request.user, reasons=[{"reason": reason}]
            ),
        )


@admin.register(CreditListing)
class CreditListingAdmin(ReviewerAdmin):
    list_display = ("group", "list_kind", "reason_code", "listed_on", "fixed_on", "removal_due", "removed_on")
    list_filter = ("list_kind", "reason_code")
    list_select_related = ("group",)
    actions = ("remove",)
    scope_column = "group__issuing_division_code"
    rule = Action.LISTING_REVIEW

    @admin.action(description="移出名录（填写理由）")
    def remove(self, request, queryset):
        return self.run_with_reason(
            request,
            queryset,
            action="remove",
            title="移出名录",
            done="已移出",
            call=lambda x, reason, field: services.credit_listing_remove(
                listing=x, actor=request.user, reason=reason
            ),
        )


@admin.register(AnnualReport)
class AnnualReportAdmin(ReviewerAdmin):
    list_display = ("group", "year", "member_count", "activities_held", "submitted_at")
    list_filter = ("year",)
    scope_column = "group__issuing_division_code"
    rule = Action.ORG_REVIEW


@admin.register(RegisteredOrganisation)
class RegisteredOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "division_code", "status", "status_changed_on")
    list_filter = ("status",)
    search_fields = ("name", "uscc")
    form = RegisteredOrganisationForm

    def save_model(self, request, obj, form, change) -> None:
        services.registered_organisation_save(organisation=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
