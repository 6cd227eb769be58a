"""Periodic work of event check-in."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from backend.checkin import conf
from backend.checkin.models import Event, Pass
from backend.checkin.services import event_auto_checkout, lists_auto_checkout
from backend.notifications.scheduler import Job
from backend.notifications.services import notify


def auto_checkout_ended_events() -> dict[str, int]:
    """Check out everybody still inside an event that has ended (an exit at the event's end), so
    volunteers' stays become service records. Idempotent: each event is closed once, and the
    exits carry fixed nonces."""
    now = timezone.now()
    events = list(Event.objects.filter(ends_at__lte=now, closed_at__isnull=True).order_by("ends_at")[:200])
    checked_out = sum(event_auto_checkout(event=event, now=now) for event in events)
    return {"events": len(events), "checked_out": checked_out}


def remind_event_starting() -> dict[str, int]:
    """Tell each pass holder that their event starts soon (within the configured lead time).

    Volunteers whose pass comes from a shift sign-up get the shift reminders instead. One
    notification per pass and start time (dedupe key), so running the job again sends nothing.
    """
    now = timezone.now()
    horizon = now + timedelta(minutes=conf.event_reminder_lead_minutes())
    passes = (
        Pass.objects.select_related("event")
        .filter(
            status=Pass.Status.VALID,
            holder__isnull=False,
            signup__isnull=True,
            event__starts_at__gt=now,
            event__starts_at__lte=horizon,
            event__closed_at__isnull=True,
        )
        .order_by("event__starts_at", "pk")[:5000]
    )
    sent = 0
    for pass_obj in passes:
        event = pass_obj.event
        starts = timezone.localtime(event.starts_at)
        with transaction.atomic():
            created = notify(
                user=pass_obj.holder_id,
                kind="checkin.event_starting",
                params={
                    "event": event.title,
                    "starts_at": starts.strftime("%H:%M"),
                    "venue": f"，地点：{event.venue}" if event.venue else "",
                },
                target=pass_obj,
                dedupe_key=f"checkin.event_starting:{pass_obj.pk}:{starts:%Y%m%d%H%M}",
            )
        sent += created is not None
    return {"reminded": sent}


def auto_checkout_lists() -> dict[str, int]:
    """The daily check-out of lists with an ``auto_checkout_at`` (see
    ``backend.checkin.services.checkout``). Idempotent: each list once per local day."""
    return lists_auto_checkout()


JOBS = [
    Job(
        name="checkin.event_starting",
        every=timedelta(minutes=5),
        func=remind_event_starting,
        description="Remind pass holders that their event starts soon.",
    ),
    Job(
        name="checkin.auto_checkout",
        every=timedelta(minutes=5),
        func=auto_checkout_ended_events,
        description="Check out volunteers and attendees still inside at an event's end.",
    ),
    Job(
        name="checkin.list_auto_checkout",
        every=timedelta(minutes=5),
        func=auto_checkout_lists,
        description="Check out everybody still inside a list at its daily auto_checkout_at.",
    ),
]
