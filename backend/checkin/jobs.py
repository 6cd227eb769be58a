"""Periodic work of event check-in."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.notifications.scheduler import Job


def auto_checkout_ended_events() -> dict[str, int]:
    """Check out everybody still inside an event that has ended (an exit at the event's end), so
    volunteers' stays become service records. Idempotent: each event is closed once, and the
    exits carry fixed nonces."""
    from backend.checkin.models import Event
    from backend.checkin.services import event_auto_checkout

    now = timezone.now()
    events = list(Event.objects.filter(ends_at__lte=now, closed_at__isnull=True).order_by("ends_at")[:200])
    checked_out = sum(event_auto_checkout(event=event, now=now) for event in events)
    return {"events": len(events), "checked_out": checked_out}


JOBS = [
    Job(
        name="checkin.auto_checkout",
        every=timedelta(minutes=5),
        func=auto_checkout_ended_events,
        description="Check out volunteers and attendees still inside at an event's end.",
    ),
]
