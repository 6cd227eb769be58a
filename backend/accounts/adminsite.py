"""The Django admin as Linli's staff use it: every staff role works there within its scope.

- Sign-in: phone number and a one-time code from the app (``services/staff.py``); no passwords.
  The cookie session is tied to an ``AuthSession``: logout, a revoked session, a revoked role
  or a cancelled account shut the door at the next request.
- Platform admins hold every model permission (``backends.StaffBackend``).
- Other staff roles see what ``ScopedAdmin`` subclasses open to them: each declares the roles
  that work on its model (``staff_roles``) and narrows the rows to the user's scope
  (``scope``); their changes go through the domain's services (actions, ``save_model``).
- Pages carry a Content-Security-Policy (``backend.core.middleware.admin_security_headers``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from backend.accounts.selectors import user_has_role, user_is_platform_admin
from backend.accounts.services.sessions import session_logout
from backend.accounts.services.staff import staff_session_live, staff_signin
from backend.core.context import client_ip
from backend.core.errors import DomainError
from backend.core.i18n import request_lang
from backend.core.permissions import can

#: The Django session key holding the admin session's ``AuthSession`` id.
STAFF_SESSION_KEY = "linli_auth_session"
BACKEND = "backend.accounts.backends.StaffBackend"
SIGNIN_TRIES_PER_MINUTE = 10


class StaffSignInForm(forms.Form):
    phone = forms.CharField(label="手机号 Phone", max_length=20)
    code = forms.CharField(label="一次性验证码 One-time code", max_length=12)


def staff_login(request: HttpRequest, session: Any) -> None:
    """Log the admin's cookie session in for the user of ``session`` (an AuthSession)."""
    auth_login(request, session.user, backend=BACKEND)
    request.session[STAFF_SESSION_KEY] = session.pk


class LinliAdminSite(admin.AdminSite):
    site_header = "邻里 Linli · 管理后台"
    site_title = "邻里管理后台"
    index_title = "工作台 Workbench"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        if not (user.is_active and user.is_staff):
            return False
        live = getattr(request, "_linli_staff_live", None)
        if live is None:
            live = staff_session_live(session_id=request.session.get(STAFF_SESSION_KEY), user=user)
            request._linli_staff_live = live  # type: ignore[attr-defined]
        return live

    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Phone number and one-time code; on success the admin (or ``next``)."""
        target = (
            request.POST.get("next")
            or request.GET.get("next")
            or reverse("admin:index", current_app=self.name)
        )
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index", current_app=self.name)
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(target)
        form = StaffSignInForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            error = self._sign_in(request, form.cleaned_data["phone"], form.cleaned_data["code"])
            if error is None:
                return HttpResponseRedirect(target)
            form.add_error(None, error)
        context = {
            **self.each_context(request),
            "title": "工作人员登录 Staff sign-in",
            "form": form,
            "next": target,
            "app_path": request.get_full_path(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/linli_login.html", context)

    def _sign_in(self, request: HttpRequest, phone: str, code: str) -> str | None:
        """None on success, else the message to show."""
        key = f"admin-signin:{client_ip(request.META, settings.NINJA_NUM_PROXIES)}"
        tries = cache.get_or_set(key, 0, 60) or 0
        if tries >= SIGNIN_TRIES_PER_MINUTE:
            return "尝试次数过多，请稍后再试。Too many tries: wait a minute."
        cache.incr(key)
        try:
            session = staff_signin(phone=phone, code=code)
        except DomainError as exc:
            return exc.text.get(request_lang(request))
        staff_login(request, session)
        return None

    def password_change(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """No passwords in Linli's admin: back to the index."""
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))

    @method_decorator(never_cache)
    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """End the admin session and the ``AuthSession`` behind it."""
        session_id = request.session.get(STAFF_SESSION_KEY)
        if request.method == "POST" and session_id and request.user.is_authenticated:
            session = request.user.auth_sessions.filter(pk=session_id).first()  # type: ignore[union-attr]
            if session is not None:
                session_logout(session=session)
        if request.method == "POST":
            auth_logout(request)
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        return super().logout(request, extra_context)


def sees_everything(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(user.is_active and (user.is_superuser or user_is_platform_admin(user)))


class ScopedAdmin(admin.ModelAdmin):
    """A model staff of ``staff_roles`` work on, each within their scope.

    Platform admins and superusers: Django's permissions (all of them, for platform admins).
    Holders of one of ``staff_roles``: the module and the rows ``scope`` leaves them, to view;
    ``staff_change`` lets them open the change page and run actions; never add or delete.
    Every action must still check the API's permission rule per row and call the service."""

    staff_roles: ClassVar[Collection[str]] = ()
    staff_change: ClassVar[bool] = False

    def scope(self, qs: QuerySet, user: Any) -> QuerySet:
        """The rows of ``qs`` within ``user``'s scope (override per model)."""
        return qs.none()

    def works_here(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_active and user.is_staff) and any(
            user_has_role(user, r) for r in self.staff_roles
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if sees_everything(request):
            return qs
        return self.scope(qs, request.user) if self.works_here(request) else qs.none()

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self.works_here(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if sees_everything(request):
            return super().has_view_permission(request, obj)
        return self.works_here(request) and self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if sees_everything(request):
            return super().has_change_permission(request, obj)
        return self.staff_change and self.works_here(request) and self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return sees_everything(request) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request) and super().has_delete_permission(request, obj)


# --- actions through the services ----------------------------------------------------------------


def error_text(exc: DomainError, lang: str = "zh") -> str:
    """A domain error as one line for the admin's messages (field errors listed)."""
    body = exc.body(lang)
    errors = body["details"].get("errors") if isinstance(body["details"], dict) else None
    if errors:
        listed = "；".join(f"{e.get('field')}: {e.get('message', e.get('code'))}" for e in errors)
        return f"{body['message']} {listed}"
    return body["message"]


def run_per_row(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    call: Callable[[Any], Any],
    done: str,
    subject: Callable[[Any], Any] | None = None,
) -> int:
    """Call a service on each selected row the user may ``action`` (the API's permission rule,
    checked row by row on ``subject(row)``, the row itself by default), report each refusal,
    and say how many were done."""
    ok = 0
    for obj in queryset:
        allowed = request.user.is_superuser or can(request.user, action, subject(obj) if subject else obj)
        if not allowed:
            modeladmin.message_user(request, f"{obj}：无权处理 / not allowed", messages.ERROR)
            continue
        try:
            call(obj)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}：{error_text(exc)}", messages.ERROR)
            continue
        ok += 1
    if ok:
        modeladmin.message_user(request, f"{done}：{ok}", messages.SUCCESS)
    return ok


def run_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    name: str,
    title: str,
    action: str,
    call: Callable[[Any, str], Any],
    done: str,
    subject: Callable[[Any], Any] | None = None,
) -> TemplateResponse | None:
    """An action that needs a written reason: a form first, then ``call(obj, reason)`` per row
    through :func:`run_per_row`."""
    if request.POST.get("apply"):
        reason = request.POST.get("reason", "").strip()
        run_per_row(
            modeladmin,
            request,
            queryset,
            action=action,
            call=lambda obj: call(obj, reason),
            done=done,
            subject=subject,
        )
        return None
    return TemplateResponse(
        request,
        "admin/linli_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "queryset": queryset,
            "action": name,
            "opts": modeladmin.model._meta,
        },
    )
