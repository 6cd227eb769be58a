"""Delivery of notifications beyond the inbox (push). The outbox row is the source of truth;
push is best effort on top of it, through every configured channel (``channels``: FCM for the
apps, WeChat subscription messages for the mini-program).

``plan`` decides, inside the causing transaction, whether and when a notification is pushed
(preferences, quiet hours); ``schedule`` enqueues the send task once that transaction commits;
``deliver`` sends: it leases the notifications, reserves one ``sending`` attempt row per channel
address (a unique constraint refuses a second one), has each channel send in batches and
records each outcome. Dead addresses are forgotten; transient failures set ``push_after`` with
exponential backoff and enqueue another try, up to ``LINLI_PUSH_MAX_ATTEMPTS``. The
``notifications.deliver_due`` job sweeps up whatever a lost task or the immediate task backend
(which cannot defer) left due.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.notifications import conf
from backend.notifications.channels import Channel, configured_channels
from backend.notifications.kinds import Kind
from backend.notifications.models import DeliveryAttempt, Notification, Preference

log = logging.getLogger("linli.notifications")

ALWAYS_ON = frozenset({"decision", "assignment"})
QUIET_CATEGORIES = frozenset({"reminder", "info"})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- planning (inside the causing transaction) -----------------------------------------------


def push_configured() -> bool:
    """Some channel can send (FCM credentials, WeChat app id and secret) and push is not switched
    off (``LINLI_PUSH_ENABLED``). Without one (the embedded default) notifications are inbox-only
    and never touch the network."""
    return conf.push_enabled() and bool(configured_channels())


def quiet_until(moment: datetime) -> datetime | None:
    """End of the quiet hours ``moment`` falls in (aware datetime), or ``None`` outside them."""
    start, end = conf.quiet_hours()
    local = moment.astimezone(conf.SERVER_ZONE)
    now_t = local.time()
    if start == end:
        return None
    if start < end:
        inside = start <= now_t < end
    else:  # spans midnight, e.g. 22:00–07:00
        inside = now_t >= start or now_t < end
    if not inside:
        return None
    day = local.date()
    if start > end and now_t >= start:
        day = day + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=conf.SERVER_ZONE)


@dataclass(frozen=True)
class Plan:
    state: str
    push_after: datetime | None = None
    note: str = ""


def plan(*, user_id: int, spec: Kind, urgent: bool, now: datetime | None = None) -> Plan:
    """Whether and when to push a new notification of ``spec`` to ``user_id``."""
    now = now or timezone.now()
    if not push_configured():
        return Plan(Notification.PushState.SKIPPED, note="push_disabled")
    if spec.category in ALWAYS_ON:
        return Plan(Notification.PushState.PENDING, push_after=now)
    pref = Preference.objects.filter(user_id=user_id).only("quiet_hours", "muted_kinds").first()
    if pref is not None and spec.name in (pref.muted_kinds or []):
        return Plan(Notification.PushState.SKIPPED, note="muted")
    quiet = pref.quiet_hours if pref is not None else True
    if quiet and not urgent and spec.category in QUIET_CATEGORIES:
        until = quiet_until(now)
        if until is not None:
            return Plan(Notification.PushState.PENDING, push_after=until, note="quiet_hours")
    return Plan(Notification.PushState.PENDING, push_after=now)


def schedule(notification: Notification) -> None:
    """Called by ``notify`` inside the causing transaction: send after commit, never on rollback."""
    if notification.push_state != Notification.PushState.PENDING:
        return
    pk, run_after, urgent = notification.pk, notification.push_after, notification.urgent
    transaction.on_commit(lambda: enqueue(notification_id=pk, run_after=run_after, urgent=urgent))


def enqueue(*, notification_id: int, run_after: datetime | None = None, urgent: bool = False) -> bool:
    """Queue the send task. Returns False when it is left to the ``deliver_due`` job (a deferred
    send on a backend that cannot defer) or enqueueing failed (the job is the safety net)."""
    from backend.notifications.tasks import send_notification

    task = send_notification
    try:
        backend = task.get_backend()
        if run_after is not None and run_after > timezone.now():
            if not backend.supports_defer:
                return False
            task = task.using(run_after=run_after)
        if urgent and backend.supports_priority:
            task = task.using(priority=10)
        task.enqueue(notification_id)
    except Exception:
        log.exception("Could not enqueue push of notification %s; deliver_due will retry", notification_id)
        return False
    return True


# --- sending -----------------------------------------------------------------------------------


def backoff_delay(attempt: int, retry_after: float | None = None) -> timedelta:
    """Wait after the ``attempt``-th failed try: base·2^(attempt−1), capped, never less than FCM's
    Retry-After."""
    seconds = min(conf.backoff_max(), conf.backoff_base() * (2 ** max(0, attempt - 1)))
    if retry_after:
        seconds = max(seconds, min(retry_after, conf.backoff_max()))
    return timedelta(seconds=seconds)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    removed: int = 0
    transient: int = 0
    done: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "removed": self.removed,
            "transient": self.transient,
            "done": self.done,
            "retrying": self.retrying,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def _claim(notification_ids: list[int], run: str, now: datetime) -> list[Notification]:
    Notification.objects.filter(pk__in=notification_ids, push_state=Notification.PushState.PENDING).filter(
        Q(push_after__isnull=True) | Q(push_after__lte=now)
    ).filter(Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now)).update(
        push_run=run, push_lease_until=now + timedelta(seconds=conf.lease_seconds())
    )
    return list(Notification.objects.filter(pk__in=notification_ids, push_run=run).order_by("pk"))


def _finish(notification: Notification, run: str, **fields) -> None:
    Notification.objects.filter(pk=notification.pk, push_run=run).update(
        push_run="", push_lease_until=None, **fields
    )


def deliver(*, notification_ids: list[int]) -> DeliveryReport:
    """Push the given notifications that are pending and due; safe to call twice or in parallel."""
    report = DeliveryReport()
    if not notification_ids:
        return report
    if not push_configured():
        Notification.objects.filter(
            pk__in=notification_ids, push_state=Notification.PushState.PENDING
        ).update(push_state=Notification.PushState.SKIPPED, push_note="push_disabled")
        return report
    run = secrets.token_hex(16)
    claimed = _claim(notification_ids, run, timezone.now())
    report.claimed = len(claimed)
    if not claimed:
        return report
    channels = configured_channels()
    reserved, already_sent = _reserve(claimed, run, channels)
    transient = _send(reserved, {n.pk: n for n in claimed}, channels, report)
    sent = {a.notification_id for a in reserved if a.outcome == DeliveryAttempt.Outcome.SENT}
    for notification in claimed:
        _settle(
            notification,
            run,
            tried=any(a.notification_id == notification.pk for a in reserved),
            failures=transient.get(notification.pk),
            succeeded=notification.pk in sent or notification.pk in already_sent,
            report=report,
        )
    return report


def _reserve(
    claimed: list[Notification], run: str, channels: list[Channel]
) -> tuple[list[DeliveryAttempt], set[int]]:
    """One ``sending`` attempt row per notification and channel address not yet sent to, reserved
    before sending (the database refuses a second reservation of the same address). Returns the
    reserved attempts and the notifications an earlier run already sent to some address."""
    taken = set(
        DeliveryAttempt.objects.filter(
            notification_id__in=[n.pk for n in claimed],
            outcome__in=[DeliveryAttempt.Outcome.SENDING, DeliveryAttempt.Outcome.SENT],
        ).values_list("notification_id", "token_hash")
    )
    by_id = {n.pk: n for n in claimed}
    wanted = [
        DeliveryAttempt(
            notification_id=n_id,
            channel=channel.name,
            device_id=address.device_id,
            token_hash=address.key,
            attempt=by_id[n_id].push_attempts + 1,
            run=run,
            outcome=DeliveryAttempt.Outcome.SENDING,
        )
        for channel in channels
        for n_id, addresses in channel.addresses(claimed).items()
        for address in addresses
        if (n_id, address.key) not in taken
    ]
    DeliveryAttempt.objects.bulk_create(wanted, ignore_conflicts=True)
    reserved = list(
        DeliveryAttempt.objects.filter(run=run, outcome=DeliveryAttempt.Outcome.SENDING)
        .select_related("device")
        .order_by("pk")
    )
    return reserved, {nid for nid, _ in taken}


def _send(
    reserved: list[DeliveryAttempt],
    by_id: dict[int, Notification],
    channels: list[Channel],
    report: DeliveryReport,
) -> dict[int, list[float | None]]:
    """Each channel sends its reserved attempts in batches; every outcome is recorded and dead
    addresses are forgotten. Returns the transient failures (with the service's Retry-After) by
    notification."""
    transient: dict[int, list[float | None]] = defaultdict(list)
    for channel in channels:
        mine = [a for a in reserved if a.channel == channel.name]
        size = channel.batch_size()
        for start in range(0, len(mine), size):
            chunk = mine[start : start + size]
            results = channel.send(chunk, by_id)
            finished_at = timezone.now()
            for attempt, result in zip(chunk, results, strict=True):
                attempt.outcome = result.outcome
                attempt.message_id = result.message_id[:200]
                attempt.error_code = result.error_code[:40]
                attempt.finished_at = finished_at
                if result.outcome == DeliveryAttempt.Outcome.SENT:
                    report.sent += 1
                elif result.outcome == DeliveryAttempt.Outcome.TRANSIENT:
                    report.transient += 1
                    transient[attempt.notification_id].append(result.retry_after)
            DeliveryAttempt.objects.bulk_update(chunk, ["outcome", "message_id", "error_code", "finished_at"])
        report.removed += channel.forget(mine)
    return transient


def _settle(
    notification: Notification,
    run: str,
    *,
    tried: bool,
    failures: list[float | None] | None,
    succeeded: bool,
    report: DeliveryReport,
) -> None:
    """The notification's push state after this run: failed for good, retrying later, done, or
    skipped (no devices, or every address turned out dead)."""
    attempts = notification.push_attempts + (1 if tried else 0)
    if failures and attempts >= conf.max_attempts():
        _finish(
            notification,
            run,
            push_state=Notification.PushState.FAILED,
            push_attempts=attempts,
            push_note="gave_up",
        )
        report.failed.append(notification.pk)
    elif failures:
        retry_after = max((r for r in failures if r), default=None)
        due = timezone.now() + backoff_delay(attempts, retry_after)
        _finish(notification, run, push_attempts=attempts, push_after=due, push_note="retrying")
        report.retrying.append(notification.pk)
        enqueue(notification_id=notification.pk, run_after=due, urgent=notification.urgent)
    elif succeeded:
        _finish(
            notification, run, push_state=Notification.PushState.DONE, push_attempts=attempts, push_note=""
        )
        report.done.append(notification.pk)
    else:
        _finish(
            notification,
            run,
            push_state=Notification.PushState.SKIPPED,
            push_attempts=attempts,
            push_note="no_devices",
        )
        report.skipped.append(notification.pk)


def deliver_due(*, limit: int = 5000) -> DeliveryReport:
    """Send pending notifications that have been due for a while (held by quiet hours, waiting
    to retry, or whose task was lost)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=conf.sweep_grace_seconds())
    ids = list(
        Notification.objects.filter(push_state=Notification.PushState.PENDING, push_after__lte=cutoff)
        .filter(Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now))
        .order_by("push_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    total = DeliveryReport()
    size = conf.batch_size()
    for start in range(0, len(ids), size):
        part = deliver(notification_ids=ids[start : start + size])
        total.claimed += part.claimed
        total.sent += part.sent
        total.removed += part.removed
        total.transient += part.transient
        total.done += part.done
        total.retrying += part.retrying
        total.failed += part.failed
        total.skipped += part.skipped
    return total
