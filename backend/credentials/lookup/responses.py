"""The HTTP answers of the public lookup, shared by every path that serves it.

``GET /api/v1/verify/{TOKEN}`` (JSON) and ``GET /v/{TOKEN}`` (page) are served under daphne by
the ASGI fast path (``backend.credentials.lookup.fastpath``), and otherwise by the ninja route and
the Django view (OpenAPI, Django's test client, ``LINLI_LOOKUP_FAST_PATH=0``). All of them call
``token_answer``, so they answer with the same status, headers and body.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from backend.core.errors import DomainError, Throttled
from backend.core.i18n import lang_from_header
from backend.credentials.lookup.answer import STATUS_TEXT, LookupResult, alookup_token, lookup_manual
from backend.credentials.lookup.log import lookup_record
from backend.credentials.lookup.ratelimit import Decision, manual_limit

Channel = Literal["api", "page"]

NO_STORE = "no-store"

# The page is small and self-contained: inline CSS, no scripts, images only from this site.
PAGE_HEADERS = {
    "Cache-Control": NO_STORE,
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}

HINTS = {
    "valid": "证件有效。请核对照片与本人是否一致。",
    "expired": "证件已过期，持证人目前不具备有效资格。",
    "not_yet_valid": "证件尚未生效。",
    "suspended": "证件已被暂停，持证人目前不得从业。",
    "revoked": "证件已被吊销或作废，请勿让其提供服务。",
    "blacklisted": "持证人已被列入行业黑名单，请勿让其提供服务。",
    "not_genuine": "此二维码不是本平台签发的证件，可能是伪造的。请勿开门，并可拨打 110 报警。",
}


# --- JSON (the API) ----------------------------------------------------------------------------


_encode = json.JSONEncoder(ensure_ascii=False).encode  # what JsonResponse writes for plain values


def lang(request: HttpRequest) -> str:
    """``request_lang`` read straight from ``META`` (no ``request.headers`` mapping to build)."""
    return lang_from_header(request.META.get("HTTP_ACCEPT_LANGUAGE"))


def json_answer(body: dict, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(_encode(body).encode(), status=status, content_type="application/json")
    response["Cache-Control"] = NO_STORE
    return response


def result_json(request: HttpRequest, result: LookupResult) -> HttpResponse:
    return json_answer(result.as_json(lang(request)))


def error_json(request: HttpRequest, error: DomainError) -> HttpResponse:
    return json_answer(error.body(lang(request)), status=error.status)


def throttled_json(request: HttpRequest, decision: Decision) -> HttpResponse:
    response = error_json(request, Throttled(retry_after=decision.retry_after))
    response["Retry-After"] = str(decision.retry_after)
    return response


# --- pages -------------------------------------------------------------------------------------


def page(template: str, context: dict, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(render_to_string(template, context), status=status)
    for name, value in PAGE_HEADERS.items():
        response[name] = value
    return response


def _photo_src(credential: dict[str, Any] | None) -> str:
    """The photo's signed URL as a path: the page loads it from the site that served the page
    (its CSP allows images from there only)."""
    url = (credential or {}).get("photo_url") or ""
    return urllib.parse.urlsplit(url).path if url else ""


def result_page(result: LookupResult) -> HttpResponse:
    return page(
        "credentials/verify.html",
        {
            "status": result.status,
            "status_text": STATUS_TEXT[result.status][0],
            "hint": HINTS[result.status],
            "c": result.credential,
            "photo_src": _photo_src(result.credential),
            "checked_at": timezone.localtime(result.checked_at),
        },
    )


def throttled_page(decision: Decision) -> HttpResponse:
    response = page("credentials/throttled.html", {"wait": decision.retry_after}, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def manual_not_found_page(certificate_no: str) -> HttpResponse:
    context = {"not_found": True, "certificate_no": certificate_no, "checked_at": timezone.localtime()}
    return page("credentials/manual.html", context, status=404)


# --- the scanned-token lookup ------------------------------------------------------------------


async def token_answer(
    request: HttpRequest, token: str, *, channel: Channel, limit: Decision
) -> HttpResponse:
    """The answer to a scanned token: refused when over the rate limit (``limit``, counted by the
    caller: ``lookup_limit.ahit`` on the event loop, ``hit`` elsewhere), else the live status.
    Either way the lookup is logged. A forged token costs no query."""
    if not limit.allowed:
        lookup_record(result=None, channel=channel, meta=request.META, status="rate_limited")
        return throttled_json(request, limit) if channel == "api" else throttled_page(limit)
    result = await alookup_token(token)
    lookup_record(result=result, channel=channel, meta=request.META)
    return result_json(request, result) if channel == "api" else result_page(result)


def manual_check(
    request: HttpRequest, *, certificate_no: str, name: str
) -> tuple[Decision, LookupResult | None]:
    """The manual lookup (certificate number **and** name) behind its stricter rate limit, logged:
    (the rate-limit decision, the result or ``None`` for "not found" and "mismatch" alike)."""
    limit = manual_limit.hit(request.META)
    if not limit.allowed:
        lookup_record(result=None, channel="manual", meta=request.META, status="rate_limited")
        return limit, None
    result = lookup_manual(certificate_no=certificate_no, name=name)
    lookup_record(result=result, channel="manual", meta=request.META)
    return limit, result
