"""HTTP middleware: request context, one error body for the API, and Idempotency-Key replay.

Each middleware works in both sync and async mode, so async API views under daphne never hop
to a thread just to pass through them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from whitenoise.middleware import WhiteNoiseMiddleware

from backend.core.context import RequestMeta, client_ip, reset_meta, set_meta
from backend.core.errors import (
    STATUS_ERRORS,
    DomainError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    ValidationFailed,
)
from backend.core.faults import fault_error
from backend.core.hooks import Hook
from backend.core.i18n import T, request_lang
from backend.core.models import IdempotencyRecord

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
IDEMPOTENCY_TTL = timedelta(hours=24)


def _both(cls: type) -> type:
    cls.sync_capable = True  # type: ignore[attr-defined]
    cls.async_capable = True  # type: ignore[attr-defined]
    return cls


def error_response(request: HttpRequest, error: DomainError, **headers: str) -> JsonResponse:
    response = JsonResponse(
        error.body(request_lang(request)), status=error.status, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@_both
class admin_security_headers:
    """A Content-Security-Policy (``LINLI_ADMIN_CSP``) on every page of the Django admin."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _add(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(ADMIN_PREFIX) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.LINLI_ADMIN_CSP
        return response

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        return self._add(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        return self._add(request, await self.get_response(request))


@_both
class request_context:
    """Record client address, user agent and a request id for audit rows written by services."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _meta(self, request: HttpRequest) -> RequestMeta:
        return RequestMeta(
            ip=client_ip(request.META, settings.NINJA_NUM_PROXIES),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            host=request.META.get("HTTP_HOST", "")[:300],
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        token = set_meta(self._meta(request))
        try:
            return self.get_response(request)
        finally:
            reset_meta(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        token = set_meta(self._meta(request))
        try:
            return await self.get_response(request)
        finally:
            reset_meta(token)


def _rewrite_error(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if (
        response.status_code < 400
        or not request.path.startswith(API_PREFIX)
        or response.get("Content-Type", "").startswith("application/json")
    ):
        return response
    error_cls = STATUS_ERRORS.get(response.status_code) or (
        STATUS_ERRORS[500] if response.status_code >= 500 else DomainError
    )
    error = error_cls()
    new = JsonResponse(
        error.body(request_lang(request)),
        status=response.status_code,
        json_dumps_params={"ensure_ascii": False},
    )
    if response.has_header("Allow"):
        new["Allow"] = response["Allow"]
    return new


@_both
class api_error_body:
    """Under /api/, any error that did not come out as our JSON body (404 for an unknown path,
    405, a crash page) is rewritten into ``{"code", "message", "details"}``."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        return _rewrite_error(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        return _rewrite_error(request, await self.get_response(request))


class _Replay(Exception):
    def __init__(self, response: HttpResponseBase) -> None:
        self.response = response


#: ``(request) -> str | None``: who sent the request, as a stable key (registered by
#: backend.accounts from the bearer token); ``None`` for anonymous requests.
request_owner: Hook[Callable[[HttpRequest], str | None]] = Hook("core.request_owner", single=True)


def _owner(request: HttpRequest) -> str:
    return request_owner.call_first(request) or "anon"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update((request.method or "").encode() + b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _begin(request: HttpRequest, key: str) -> IdempotencyRecord | HttpResponseBase:
    """Claim the key, or answer from (or about) the request that claimed it first."""
    owner = _owner(request)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue
            if existing.created_at < now - IDEMPOTENCY_TTL:
                IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
                continue
            if existing.fingerprint != fingerprint:
                return error_response(request, IdempotencyKeyReused())
            if existing.state == IdempotencyRecord.State.RUNNING:
                return error_response(request, IdempotencyInProgress())
            replay = HttpResponse(
                bytes(existing.body or b""), status=existing.status_code, content_type=existing.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
    return error_response(request, IdempotencyInProgress())


def _finish(record: IdempotencyRecord, response: HttpResponseBase) -> None:
    if response.status_code >= 500 or response.streaming:
        # Nothing durable is known about a failed request: let the client retry it for real.
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        status_code=response.status_code,
        content_type=response.get("Content-Type", "application/json"),
        body=response.content,  # type: ignore[attr-defined]
    )


def _key_of(request: HttpRequest) -> str | DomainError | None:
    if request.method not in UNSAFE or not request.path.startswith(API_PREFIX):
        return None
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isascii():
        return ValidationFailed(
            T(
                "Idempotency-Key 须为 1 至 255 个 ASCII 字符。",
                "Idempotency-Key must be 1 to 255 ASCII characters.",
            ),
            errors=[{"field": "Idempotency-Key", "code": "invalid"}],
        )
    return key


def _fault_response(request: HttpRequest, exc: Exception) -> HttpResponseBase:
    """The database (or storage) away before the view ran: 503 with Retry-After, else re-raise."""
    fault = fault_error(exc)
    if fault is None:
        raise exc
    return error_response(request, fault, Retry_After=str(fault.details["retry_after"]))


@_both
class idempotency:
    """``Idempotency-Key`` on unsafe API requests: the first response is stored per user and key
    for 24 hours and replayed on a repeat; a repeat while the first still runs gets 409
    ``idempotency_in_progress``; a repeat with another body gets 422 ``idempotency_key_reused``."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        key = _key_of(request)
        if key is None:
            return self.get_response(request)
        if isinstance(key, DomainError):
            return error_response(request, key)
        try:
            claimed = _begin(request, key)
        except Exception as exc:
            return _fault_response(request, exc)
        if not isinstance(claimed, IdempotencyRecord):
            return claimed
        response: HttpResponseBase | None = None
        try:
            response = self.get_response(request)
        finally:
            if response is None:
                IdempotencyRecord.objects.filter(pk=claimed.pk).delete()
        _finish(claimed, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        key = _key_of(request)
        if key is None:
            return await self.get_response(request)
        if isinstance(key, DomainError):
            return error_response(request, key)
        try:
            claimed = await sync_to_async(_begin)(request, key)
        except Exception as exc:
            return _fault_response(request, exc)
        if not isinstance(claimed, IdempotencyRecord):
            return claimed
        response: HttpResponseBase | None = None
        try:
            response = await self.get_response(request)
        finally:
            if response is None:
                await IdempotencyRecord.objects.filter(pk=claimed.pk).adelete()
        await sync_to_async(_finish)(claimed, response)
        return response


class static_files(WhiteNoiseMiddleware):
    """WhiteNoise, made async-capable: WhiteNoise's own middleware is sync-only, which would put
    every request under daphne through a thread hop. Only static paths touch the file table."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable, *args: object, **kwargs: object) -> None:
        super().__init__(get_response, *args, **kwargs)  # type: ignore[arg-type]
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _lookup(self, request: HttpRequest) -> object | None:
        if not request.path_info.startswith(self.static_prefix):
            return None
        return self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:  # type: ignore[override]
        if self.is_async:
            return self.__acall__(request)
        static_file = self._lookup(request)
        if static_file is not None:
            return self.serve(static_file, request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        static_file = self._lookup(request)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
