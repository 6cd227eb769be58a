"""Daily automatic check-out of a check-in list (pretix checks out at night): at the list's
``auto_checkout_at`` (a local time of day, Asia/Shanghai), everybody still inside on the list
is checked out at that time.

Each exit goes through ``checkin_redeem`` like any scan (source ``auto``, device
``auto-checkout``): counters, presence, the dashboards' feed and a volunteer's stay, which ends
at that time and becomes a service record, follow as for a scanner's exit. Idempotent: an exit's
nonce names the list, the day and the stay (``auto-<list>-<YYYYMMDD>-<presence>-<entries>``), and
the list keeps the last day it was checked out for, so a second run the same day does nothing.
A pass that entered after that day's check-out time stays inside until the next one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.checkin.models import Checkin, CheckinList, Kind, Presence
from backend.checkin.redeem.messages import Redeem
from backend.checkin.services.scans import checkin_redeem
from backend.core.audit import audit_record

DEVICE = "auto-checkout"


def auto_checkout_due(*, lst: CheckinList, now: datetime) -> tuple[date, datetime] | None:
    """(local day, moment) of the check-out this list owes at ``now``, or None: today's once its
    time has passed, else yesterday's if that one never ran."""
    at: time | None = lst.auto_checkout_at
    if at is None:
        return None
    local = timezone.localtime(now)
    day = local.date() if local.time() >= at else local.date() - timedelta(days=1)
    if lst.auto_checkout_last_day is not None and lst.auto_checkout_last_day >= day:
        return None
    return day, timezone.make_aware(datetime.combine(day, at))


def list_auto_checkout(*, lst: CheckinList, day: date, moment: datetime, now: datetime | None = None) -> int:
    """Check out at ``moment`` every pass inside on ``lst`` that entered at or before it; mark the
    list done for ``day``. Returns how many exits this run recorded."""
    now = now or timezone.now()
    presences = list(
        Presence.objects.filter(list=lst, inside=True, last_entry__scanned_at__lte=moment)
        .order_by("pass_obj_id")
        .values_list("pk", "pass_obj_id", "entries")
    )
    done = 0
    for presence_id, pass_id, entries in presences:
        result = checkin_redeem(
            event_id=lst.event_id,
            redeem=Redeem(
                secret="",
                pass_id=pass_id,
                nonce=f"auto-{lst.pk}-{day:%Y%m%d}-{presence_id}-{entries}",
                kind=Kind.EXIT,
                scanned_at=moment,
                list_id=lst.pk,
            ),
            device=DEVICE,
            source=Checkin.Source.AUTO,
            received_at=now,
        )
        done += int(not result.replayed and result.row.status == Checkin.Status.OK)
    with transaction.atomic():
        marked = (
            CheckinList.objects.filter(pk=lst.pk)
            .exclude(auto_checkout_last_day__gte=day)
            .update(auto_checkout_last_day=day, auto_checked_out=F("auto_checked_out") + done)
        )
        if marked:
            audit_record(
                actor=None,
                action="checkin.list_auto_checkout",
                target=lst,
                data={"event": lst.event_id, "day": day.isoformat(), "checked_out": done},
            )
    return done


def lists_auto_checkout(*, now: datetime | None = None) -> dict[str, int]:
    """Every list whose daily check-out is due (events not yet closed)."""
    now = now or timezone.now()
    lists = (
        CheckinList.objects.filter(auto_checkout_at__isnull=False, event__closed_at__isnull=True)
        .order_by("id")
        .iterator(chunk_size=200)
    )
    ran = checked_out = 0
    for lst in lists:
        due = auto_checkout_due(lst=lst, now=now)
        if due is None:
            continue
        ran += 1
        checked_out += list_auto_checkout(lst=lst, day=due[0], moment=due[1], now=now)
    return {"lists": ran, "checked_out": checked_out}
