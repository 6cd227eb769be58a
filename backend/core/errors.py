"""The domain error hierarchy: one exception type, one body, stable codes.

Every error that reaches a client, over HTTP or a websocket, is rendered as
``{"code": "snake_case_code", "message": "...", "details": {...}}``. Codes are API: clients
switch on them, so a code never changes meaning once shipped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from backend.core.i18n import T, localize


class DomainError(Exception):
    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400
    message: ClassVar[T] = T("请求有误。", "Bad request.")
    #: Other codes the error may carry (``SomeError(code=...)``): published with ``code``.
    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, message: T | str | None = None, *, code: str | None = None, **details: Any) -> None:
        self.text: T = T(message, message) if isinstance(message, str) else (message or type(self).message)
        self.error_code = code or type(self).code
        self.details = details
        super().__init__(self.text.en)

    def body(self, lang: str) -> dict[str, Any]:
        return {
            "code": self.error_code,
            "message": self.text.get(lang),
            "details": localize(self.details, lang),
        }


def error_body(code: str, message: T, lang: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message.get(lang), "details": localize(details, lang)}


# --- generic HTTP-level errors ---------------------------------------------------------------------
class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    message = T("请先登录。", "Authentication required.")


class InvalidToken(DomainError):
    code = "invalid_token"
    status = 401
    message = T("登录凭证无效或已过期。", "The token is invalid or has expired.")


class TokenExpired(InvalidToken):
    code = "token_expired"
    message = T("登录凭证已过期，请刷新。", "The access token has expired: refresh it.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    message = T("没有权限执行此操作。", "You do not have permission to do this.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = T("找不到该资源。", "Not found.")


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    message = T("不支持该请求方法。", "Method not allowed.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = T("与当前状态冲突。", "The request conflicts with the current state.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = T("当前状态下不能执行此操作。", "This action is not allowed in the current state.")


class ValidationFailed(DomainError):
    """One or more input problems; ``details["errors"]`` lists each with field and code."""

    code = "validation_error"
    status = 422
    message = T("提交的内容有误。", "The request contains invalid data.")


class RequestTooLarge(DomainError):
    code = "request_too_large"
    status = 413
    message = T("请求体过大。", "The request body is too large.")


class MalformedRequest(DomainError):
    """A body the server cannot read at all (a multipart upload without its boundary, cut short)."""

    code = "malformed_request"
    status = 400
    message = T("请求格式错误，无法读取。", "The request is malformed and cannot be read.")


class Throttled(DomainError):
    code = "rate_limited"
    status = 429
    message = T("请求过于频繁，请稍后再试。", "Too many requests. Please try again later.")


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503
    message = T("服务暂时不可用。", "The service is temporarily unavailable.")


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    message = T("相同的请求正在处理中。", "A request with this Idempotency-Key is still in progress.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    message = T(
        "该 Idempotency-Key 已用于不同的请求。",
        "This Idempotency-Key was already used for a different request.",
    )


class InternalError(DomainError):
    code = "internal_error"
    status = 500
    message = T("服务器内部错误。", "Internal server error.")


STATUS_ERRORS: dict[int, type[DomainError]] = {
    400: DomainError,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: RequestTooLarge,
    422: ValidationFailed,
    429: Throttled,
    500: InternalError,
    503: ServiceUnavailable,
}


def field_error(field: str, code: str, message: T | str, **extra: Any) -> dict[str, Any]:
    """One entry of ``ValidationFailed(errors=[...])``; the message is localised at render time."""
    return {"field": field, "code": code, "message": message, **extra}
