"""Staff see WeChat bindings and, above all, the content WeChat flagged."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from backend.core.signed_urls import signed_path
from backend.wechat.models import ContentCheck, Subscription, WeChatAccount
from backend.wechat.services.security import content_check_resolve


@admin.register(WeChatAccount)
class WeChatAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "bound_at", "last_signed_in_at")
    search_fields = ("user__phone",)
    readonly_fields = ("user", "appid", "openid", "unionid", "bound_at", "last_signed_in_at")
    exclude = ("session_key",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "template_id", "answer", "long_term", "credits", "sent", "updated_at")
    list_filter = ("answer", "long_term")
    readonly_fields = ("user", "template_id", "answer", "long_term", "credits", "sent", "updated_at")


@admin.register(ContentCheck)
class ContentCheckAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "status",
        "field",
        "target_type",
        "target_id",
        "author",
        "created_at",
        "resolved_at",
    )
    list_filter = ("kind", "status", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = ["image", *(f.name for f in ContentCheck._meta.fields)]
    actions = ["resolve"]

    @admin.display(description="图片 / Image")
    def image(self, check: ContentCheck) -> str:
        """Staff look at an image (hidden from everyone else when risky) through a signed link."""
        if not check.media:
            return "—"
        return format_html(
            '<a href="{0}" target="_blank"><img src="{0}" style="max-height:240px"></a>',
            signed_path(check.media),
        )

    @admin.action(description="标记为已处理 / Mark handled")
    def resolve(self, request: HttpRequest, queryset) -> None:
        for check in queryset:
            content_check_resolve(check=check, by=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
