"""The live dashboard page: a static shell; counts and feed come over the authenticated socket.

The page holds no event data itself, so it needs no session: the coordinator's access token
reaches it in the URL fragment (``/events/7/live#token=…``, never sent to the server) or is pasted
into the form, is kept in ``sessionStorage`` and offered to the socket as a subprotocol.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def live_page(request: HttpRequest, event_id: int) -> HttpResponse:
    nonce = secrets.token_urlsafe(16)
    html = render_to_string("checkin/live.html", {"event_id": event_id, "nonce": nonce}, request=request)
    response = HttpResponse(html)
    host = request.get_host()
    response["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        f"connect-src 'self' ws://{host} wss://{host}; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
