"""The public lookup page: ``/v/<TOKEN>`` (what a phone camera opens) and ``/v/`` (manual lookup).

Under daphne, ``GET /v/<TOKEN>`` is answered by the ASGI fast path (``backend.credentials.lookup.fastpath``);
this view gives the same answer (``responses.token_answer``) wherever Django serves the page.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from backend.credentials.lookup.ratelimit import lookup_limit
from backend.credentials.lookup.responses import (
    manual_check,
    manual_not_found_page,
    page,
    result_page,
    throttled_page,
    token_answer,
)


async def verify_page(request: HttpRequest, token: str) -> HttpResponse:
    limit = await sync_to_async(lookup_limit.hit)(request.META)
    return await token_answer(request, token, channel="page", limit=limit)


@csrf_exempt  # a lookup changes nothing a forged form could abuse; the rate limit still applies
def manual_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return page("credentials/manual.html", {})
    number = request.POST.get("certificate_no", "")[:50]
    limit, result = manual_check(request, certificate_no=number, name=request.POST.get("name", "")[:50])
    if not limit.allowed:
        return throttled_page(limit)
    if result is None:
        return manual_not_found_page(number)
    return result_page(result)
