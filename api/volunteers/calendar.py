"""The volunteer's calendar feed: ``/me/calendar`` (the private address of ``/cal/<token>.ics``)."""

from __future__ import annotations

from ninja import Router

from api.schemas import ERRORS
from api.volunteers.schemas import VolunteerCalendarOut
from backend.volunteers import selectors, services

router = Router()


@router.get("/me/calendar", response={200: VolunteerCalendarOut, **ERRORS})
def my_calendar(request):
    """The private address of the caller's calendar feed (RFC 5545: confirmed shifts, cancelled
    ones marked ``STATUS:CANCELLED``), made on the first call and the same afterwards. Anyone
    holding the address reads the feed without signing in: replace it with ``POST``."""
    feed, token = services.calendar_feed_ensure(user=request.auth)
    return VolunteerCalendarOut.of(feed, url=selectors.calendar_feed_url(feed=feed, token=token))


@router.post("/me/calendar", response={200: VolunteerCalendarOut, **ERRORS})
def my_calendar_renew(request):
    """A new private address; the old one answers 404 from now on (subscribe again with the new
    one). Audited."""
    feed, token = services.calendar_feed_renew(user=request.auth)
    return VolunteerCalendarOut.of(feed, url=selectors.calendar_feed_url(feed=feed, token=token))
