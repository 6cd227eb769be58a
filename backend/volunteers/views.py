"""Pages of the volunteers domain served outside the JSON API (mounted at the site root).

``/c/<TOKEN>``, the page a certificate's QR opens, says genuine, revoked or not genuine. The
signature is checked before the database is read (``selectors.certificate_proof_check``).
Public, never cached, limited per client address (``LINLI_VOLUNTEER_VERIFY_RATE``, as the JSON
check of the API).

``/cal/<token>.ics`` is a volunteer's private calendar feed.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from backend.core.context import client_ip
from backend.volunteers import selectors
from backend.volunteers.ical import calendar_text

STATUS_TEXT = {
    "genuine": ("证明真实有效", "本证明由出具组织签名，内容未被改动。请核对持证人身份。"),
    "revoked": ("证明已撤销", "出具组织已撤销本证明（例如服务记录已更正），不能再作为证明使用。"),
    "not_genuine": ("证明不真实", "二维码不是本平台出具的证明，或内容已被改动。"),
}
LABELS = [
    ("name", "姓名"),
    ("idt", "证件类型"),
    ("idn", "证件号码"),
    ("vno", "志愿者编号"),
    ("h", "服务时数"),
    ("c", "服务内容"),
    ("org", "出具组织"),
    ("hdl", "经办人"),
    ("no", "证明编号"),
    ("d", "出具日期"),
]
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _allowed(request: HttpRequest) -> bool:
    count, _, unit = str(getattr(settings, "LINLI_VOLUNTEER_VERIFY_RATE", "60/m")).partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(unit[:1] or "m", 60)
    window = int(time.time() // seconds)
    key = f"throttle:volunteer_proof_page:{client_ip(request.META, settings.NINJA_NUM_PROXIES)}:{window}"
    cache.add(key, 0, seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        used = 1
    return used <= int(count)


def proof_page(request: HttpRequest, token: str) -> HttpResponse:
    if not _allowed(request):
        response = HttpResponse(
            render_to_string("volunteers/proof.html", {"status": "throttled", "title": "查询过于频繁"}),
            status=429,
        )
        response["Retry-After"] = "60"
    else:
        check = selectors.certificate_proof_check(token=token[:4000])
        title, hint = STATUS_TEXT[check.status]
        rows = [(label, (check.fields or {}).get(key, "")) for key, label in LABELS] if check.fields else []
        context = {
            "status": check.status,
            "title": title,
            "hint": hint,
            "rows": rows,
            "revoked_at": check.revoked_at,
            "checked_at": timezone.localtime(),
        }
        response = HttpResponse(render_to_string("volunteers/proof.html", context))
    for name, value in HEADERS.items():
        response[name] = value
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A volunteer's shifts as text/calendar for calendar apps that subscribe to the private
    address; an unknown or replaced token is 404 (the same for both)."""
    feed = selectors.calendar_feed_by_token(token=token)
    if feed is None:
        raise Http404()
    now = timezone.now()
    body = calendar_text(
        name="邻里志愿服务", events=selectors.calendar_events(user=feed.user, now=now), stamp=now
    )
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
