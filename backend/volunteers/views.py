"""Pages of the volunteers domain served outside the JSON API (mounted at the site root)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from backend.volunteers import selectors
from backend.volunteers.ical import calendar_text


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
