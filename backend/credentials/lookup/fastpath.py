"""The ASGI fast path of the public lookup: ``GET /api/v1/verify/<TOKEN>`` and ``GET /v/<TOKEN>``.

A resident's scan is the one request the public can send at will, and the cheapest to answer: a
signature check, at most one indexed SELECT, a queued log row. Django's handler around it (request
signals with their thread hops, URL resolution, middleware, ninja's parameter parsing) costs
several times that, so ``backend.asgi`` routes these two paths here, beside the Django handlers:

1. the path gives the token (``/api/v1/verify/keys`` and ``/manual``, other methods, anything
   else go to the lean Django handler ``fallback``);
2. Django's ``SecurityMiddleware`` runs its request check and adds its response headers
   (``backend.runtime.fastpath``, shared with the sign-up gate);
3. the per-address rate limit is counted on the event loop (``ratelimit.lookup_limit.ahit``);
4. ``responses.token_answer`` — the very function behind the ninja route and the Django view —
   verifies the signature in the process (a forged token ends here without a query), reads the
   live status on the event loop (``db.aquery_token_row``: a connection of its own, no ORM),
   queues the log row (``log.lookup_record``) and shapes the response.

So both paths answer with the same status, headers and body; only ``Content-Length`` is added.
The fast path does not send Django's ``request_started``/``request_finished`` signals: the
lookup manages its own database connections. ``LINLI_LOOKUP_FAST_PATH=0`` turns it off (Django then serves both paths).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponseBase

from backend.core.errors import InternalError
from backend.credentials.lookup.ratelimit import lookup_limit
from backend.credentials.lookup.responses import Channel, error_json, token_answer
from backend.runtime.fastpath import FastPath

log = logging.getLogger("linli.credentials.fastpath")

API_PREFIX = "/api/v1/verify/"
PAGE_PREFIX = "/v/"
PREFIXES = (API_PREFIX, PAGE_PREFIX)
_NOT_TOKENS = frozenset({"keys", "manual"})  # other routes under /api/v1/verify/


def route(scope: dict[str, Any]) -> tuple[Channel, str] | None:
    """(channel, token) when the fast path answers this request, else ``None``."""
    if scope.get("method") != "GET" or not FastPath.plain(scope):
        return None
    path: str = scope.get("path", "")
    channel: Channel
    if path.startswith(API_PREFIX):
        channel, token = "api", path[len(API_PREFIX) :]
        if token in _NOT_TOKENS:
            return None
    elif path.startswith(PAGE_PREFIX):
        channel, token = "page", path[len(PAGE_PREFIX) :]
    else:
        return None
    if not token or "/" in token:  # what Django's ``<str:token>`` would not match either
        return None
    return channel, token


class LookupFastPath(FastPath):
    """ASGI app for the two lookup paths; every other request goes to ``fallback``."""

    prefixes = PREFIXES

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        found = route(scope)
        if found is None:
            return await self.fallback(scope, receive, send)
        channel, token = found
        request = self.request(scope)
        if request is None:  # the HTTPS redirect: Django's
            return await self.fallback(scope, receive, send)
        try:
            limit = await lookup_limit.ahit(request.META)
            response: HttpResponseBase = await token_answer(request, token, channel=channel, limit=limit)
        except Exception as exc:
            response = self._failure(request, channel, exc)
        await self.respond(request, response, send)

    @staticmethod
    def _failure(request: HttpRequest, channel: Channel, exc: Exception) -> HttpResponseBase:
        """What Django would answer: the API's error body, or the site's 500 page."""
        if channel == "api":
            log.error("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
            return error_json(request, InternalError())
        return response_for_exception(request, exc)
