"""Every API error leaves as ``{"code", "message", "details"}`` in the caller's language."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from backend.core.errors import (
    STATUS_ERRORS,
    DomainError,
    InternalError,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from backend.core.errors import Throttled as ThrottledError
from backend.core.faults import fault_error
from backend.core.i18n import T, request_lang

log = logging.getLogger("linli.api")

_TYPE_CODES = {
    "missing": "required",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_long",
    "too_short": "too_short",
    "json_invalid": "invalid_json",
    "greater_than_equal": "too_small",
    "greater_than": "too_small",
    "less_than_equal": "too_large",
    "less_than": "too_large",
    "enum": "invalid_choice",
    "literal_error": "invalid_choice",
}


_MESSAGES = {
    "required": T("此项必填。", "This field is required."),
    "too_long": T("内容过长。", "Too long."),
    "too_short": T("内容过短。", "Too short."),
    "invalid_json": T("请求体不是有效的 JSON。", "The request body is not valid JSON."),
    "too_small": T("数值过小。", "The value is too small."),
    "too_large": T("数值过大。", "The value is too large."),
    "invalid_choice": T("不是允许的选项。", "Not an allowed choice."),
    "invalid": T("格式不正确。", "Invalid value."),
}


_INVALID_BODY = T("请求体无法解析。", "The request body cannot be parsed.")


def render(api: NinjaAPI, request: HttpRequest, error: DomainError, **headers: str) -> HttpResponse:
    response = api.create_response(request, error.body(request_lang(request)), status=error.status)
    for name, value in headers.items():
        response[name] = value
    return response


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "form", "file", "header", "cookie"}:
        parts = parts[1:]
    # ninja nests the body under the parameter name ("payload"); clients know only field names.
    if len(parts) > 1 and parts[0] in {"payload", "data", "body", "params"}:
        parts = parts[1:]
    return ".".join(parts)


def _validation_entries(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for err in errors:
        kind = str(err.get("type", "invalid"))
        code = _TYPE_CODES.get(kind, "invalid")
        ctx = err.get("ctx") or {}
        if kind == "value_error" and isinstance(ctx.get("error"), Exception):
            code = getattr(ctx["error"], "code", None) or "invalid"
        message = _MESSAGES.get(code)
        if message is None:
            message = getattr(ctx.get("error"), "text", None) or T(
                str(err.get("msg", "")), str(err.get("msg", ""))
            )
        entries.append({"field": _field(list(err.get("loc", []))), "code": code, "message": message})
    return entries


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return render(api, request, exc)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return render(api, request, ValidationFailed(errors=_validation_entries(exc.errors)))

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return render(api, request, NotAuthenticated(), **{"WWW-Authenticate": "Bearer"})

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = int(exc.wait or 1)
        return render(api, request, ThrottledError(retry_after=wait), **{"Retry-After": str(wait)})

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and "parse" in str(exc).lower():
            return render(api, request, DomainError(_INVALID_BODY, code="invalid_json"))
        cls = STATUS_ERRORS.get(exc.status_code, DomainError)
        return render(api, request, cls())

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return render(api, request, NotFound())

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        fault = fault_error(exc)
        if fault is not None:  # the database or the media storage is away: 503, retry later
            log.warning("%s %s: %s (%s)", request.method, request.path, fault.error_code, exc)
            return render(api, request, fault, **{"Retry-After": str(fault.details["retry_after"])})
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return render(api, request, InternalError(T("服务器内部错误。", "Internal server error.")))
