"""The public lookup page: ``/v/<TOKEN>`` (what a phone camera opens) and ``/v/`` (manual lookup)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from api.credentials import lookup_throttle, manual_throttle
from backend.credentials.lookup import STATUS_TEXT, LookupResult, alookup_token, lookup_manual, lookup_record

# Small and self-contained: inline CSS, no scripts, images only from this site.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}

_HINTS = {
    "valid": "证件有效。请核对照片与本人是否一致。",
    "expired": "证件已过期，持证人目前不具备有效资格。",
    "not_yet_valid": "证件尚未生效。",
    "suspended": "证件已被暂停，持证人目前不得从业。",
    "revoked": "证件已被吊销或作废，请勿让其提供服务。",
    "blacklisted": "持证人已被列入行业黑名单，请勿让其提供服务。",
    "not_genuine": "此二维码不是本平台签发的证件，可能是伪造的。请勿开门，并可拨打 110 报警。",
}


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(render_to_string(template, context, request=None), status=status)
    for name, value in _HEADERS.items():
        response[name] = value
    return response


def _result_context(result: LookupResult) -> dict:
    return {
        "status": result.status,
        "status_text": STATUS_TEXT[result.status][0],
        "hint": _HINTS[result.status],
        "c": result.credential,
        "checked_at": timezone.localtime(result.checked_at),
    }


def _throttled(request: HttpRequest, throttle) -> HttpResponse:
    wait = max(1, int(throttle.wait() or 1))
    response = _page(request, "credentials/throttled.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


async def verify_page(request: HttpRequest, token: str) -> HttpResponse:
    if not lookup_throttle.allow_request(request):
        lookup_record(result=None, channel="page", meta=request.META, status="rate_limited")
        return _throttled(request, lookup_throttle)
    result = await alookup_token(token)
    lookup_record(result=result, channel="page", meta=request.META)
    return _page(request, "credentials/verify.html", _result_context(result))


@csrf_exempt  # a lookup changes nothing a forged form could abuse; the rate limit still applies
def manual_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, "credentials/manual.html", {})
    if not manual_throttle.allow_request(request):
        lookup_record(result=None, channel="manual", meta=request.META, status="rate_limited")
        return _throttled(request, manual_throttle)
    number = request.POST.get("certificate_no", "")[:50]
    name = request.POST.get("name", "")[:50]
    result = lookup_manual(certificate_no=number, name=name)
    lookup_record(result=result, channel="manual", meta=request.META)
    if result is None:
        return _page(
            request,
            "credentials/manual.html",
            {"not_found": True, "certificate_no": number, "checked_at": timezone.localtime()},
            status=404,
        )
    return _page(request, "credentials/verify.html", _result_context(result))
