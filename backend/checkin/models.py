"""Events, check-in lists, passes and the append-only check-in log.

The semantics follow pretix's check-in: every scan, refused ones too, is a ``Checkin`` row with a
reason code; the scanner's clock (``scanned_at``) is kept apart from ours (``received_at``); a
client nonce makes a redeem idempotent; entries and exits; re-entry after exit per list rules.

Counts are kept, not recomputed: ``Presence`` is the state of one pass on one list, and the event
(``EventSequence``) and each list carry their ``checked_in`` / ``inside`` counters, all updated
in the redeem's transaction while the pass row is locked; ``GateCount`` keeps each gate's entries
and exits, ``EventSequence.passes`` the valid passes. An annulment is a row of its own (kind
``annul``) that moves the counters back; the scan it annuls is never changed. ``EventSequence.last_seq`` numbers the
event's scans without gaps: it is incremented in the same transaction as the row it numbers, so a
rollback gives the number back and the next scan takes it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from backend.core.masking import mask_name
from backend.core.models import AppendOnlyError


class Event(models.Model):
    organisation = models.ForeignKey(
        "volunteers.Organisation", on_delete=models.PROTECT, related_name="events"
    )
    title = models.CharField(max_length=200)
    venue = models.CharField(max_length=200, blank=True)
    venue_post = models.ForeignKey(
        "volunteers.ServicePost", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    division_code = models.CharField(max_length=12, blank=True, db_index=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    checkin_opens_at = models.DateTimeField()
    checkin_closes_at = models.DateTimeField()
    shifts = models.ManyToManyField("volunteers.Shift", blank=True, related_name="checkin_events")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the end-of-event job once it has checked out everybody still inside.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(checkin_closes_at__gt=models.F("checkin_opens_at")),
                name="event_window_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EventSequence(models.Model):
    """The event's scan counter and live counts: one row, updated in every redeem's transaction."""

    event = models.OneToOneField(Event, primary_key=True, on_delete=models.CASCADE, related_name="sequence")
    last_seq = models.PositiveBigIntegerField(default=0)
    checked_in = models.PositiveIntegerField(default=0)  # passes with at least one admitted entry
    inside = models.PositiveIntegerField(default=0)  # passes inside on at least one list
    passes = models.PositiveIntegerField(default=0)  # valid passes: kept by issue and void

    def __str__(self) -> str:
        return f"event {self.event_id} seq {self.last_seq}"


class Device(models.Model):
    """A scanner device registered for one event, at a gate. The app keeps its id and sends it
    with every scan; a revoked device's sockets close and its scans are refused."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=64)
    gate = models.CharField(max_length=50)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.gate}"


class GateCount(models.Model):
    """Admitted entries and exits at one gate of an event (annulled scans taken back), kept in
    each scan's and annulment's transaction."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="gate_counts")
    gate = models.CharField(max_length=50)
    entries = models.PositiveIntegerField(default=0)
    exits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["gate"]
        constraints = [models.UniqueConstraint(fields=["event", "gate"], name="gate_count_unique")]

    def __str__(self) -> str:
        return f"{self.gate}: {self.entries} in, {self.exits} out"


class CheckinList(models.Model):
    """Which passes count at a door, and its rules (pretix's check-in list)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="lists")
    name = models.CharField(max_length=100)
    include_volunteers = models.BooleanField(default=True)
    include_attendees = models.BooleanField(default=True)
    # Volunteer passes count only for these shifts; none = every linked shift.
    shifts = models.ManyToManyField("volunteers.Shift", blank=True, related_name="+")
    allow_multiple_entries = models.BooleanField(default=False)
    allow_entry_after_exit = models.BooleanField(default=True)
    checked_in = models.PositiveIntegerField(default=0)
    inside = models.PositiveIntegerField(default=0)
    # Daily local time (Asia/Shanghai) at which everybody still inside is checked out by the
    # scheduler (``checkin.list_auto_checkout``); the last local day that checkout ran for, and
    # how many exits it has made in all (kept, for the stats).
    auto_checkout_at = models.TimeField(null=True, blank=True)
    auto_checkout_last_day = models.DateField(null=True, blank=True)
    auto_checked_out = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="checkin_list_name_unique")]

    def __str__(self) -> str:
        return self.name


class Pass(models.Model):
    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", "志愿者"
        ATTENDEE = "attendee", "参与者"

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        VOID = "void", "作废"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="passes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_passes",
    )
    holder_name = models.CharField(max_length=50)
    signup = models.ForeignKey(
        "volunteers.Signup", null=True, blank=True, on_delete=models.SET_NULL, related_name="passes"
    )
    shift = models.ForeignKey(
        "volunteers.Shift", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The random id inside the signed secret (hex); the secret itself is shown only to its holder.
    token_id = models.CharField(max_length=32, unique=True)
    secret = models.CharField(max_length=200)
    blocked = models.BooleanField(default=False)
    first_entry_at = models.DateTimeField(null=True, blank=True)
    inside_lists = models.PositiveSmallIntegerField(default=0)
    # The current stay (inside on at least one list): when it began and the seq of that entry;
    # a volunteer's stay becomes a service record when it ends.
    inside_since = models.DateTimeField(null=True, blank=True)
    stay_seq = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One live pass per sign-up; voided ones stay for the record.
            models.UniqueConstraint(
                fields=["event", "signup"],
                condition=models.Q(status="valid", signup__isnull=False),
                name="pass_one_valid_per_signup",
            )
        ]
        indexes = [
            models.Index(fields=["holder", "status"]),
            # The offline bundle reads an event's passes in id order, a chunk at a time.
            models.Index(fields=["event", "id"], name="pass_event_id_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def masked_name(self) -> str:
        """The holder's name as staff, scanners and dashboards see it (张*三): never in full."""
        return mask_name(self.holder_name)


class RevokedSecret(models.Model):
    """A secret that must no longer admit anyone: its pass was voided or re-issued."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="revoked_secrets")
    pass_obj = models.ForeignKey(
        Pass, on_delete=models.CASCADE, related_name="revoked_secrets", db_column="pass_id"
    )
    token_id = models.CharField(max_length=32, unique=True)
    reason = models.CharField(max_length=20)  # void | reissue
    revoked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.token_id} ({self.reason})"


class BundleSequence(models.Model):
    """The event's offline-bundle change counter: one row, incremented (row locked) in the
    transaction of every change a scanner's bundle must learn, so changes commit in number order
    without gaps and a reader that sees number N has seen every change up to N."""

    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.CASCADE, related_name="bundle_sequence"
    )
    last_change = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"event {self.event_id} change {self.last_change}"


class BundleChange(models.Model):
    """One change of what the offline bundle holds, numbered per event by ``BundleSequence``:
    a pass added, voided, re-issued, blocked or unblocked (``token_id``: the secret's id it
    revoked, if any), or a list's rules changed. Append-only; the delta sync reads it."""

    class Kind(models.TextChoices):
        PASS_ADDED = "pass_added", "新增"
        PASS_VOIDED = "pass_voided", "作废"
        PASS_REISSUED = "pass_reissued", "重发"
        PASS_BLOCKED = "pass_blocked", "冻结"
        PASS_UNBLOCKED = "pass_unblocked", "解冻"
        PASS_CHANGED = "pass_changed", "修改"  # edited by staff in the admin
        LIST_CHANGED = "list_changed", "清单变更"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bundle_changes")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    pass_obj = models.ForeignKey(
        Pass, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_column="pass_id"
    )
    token_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["event", "seq"], name="bundle_change_seq_unique")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class Presence(models.Model):
    """One pass on one list: inside or not, and since when."""

    pass_obj = models.ForeignKey(
        Pass, on_delete=models.CASCADE, related_name="presences", db_column="pass_id"
    )
    list = models.ForeignKey(CheckinList, on_delete=models.CASCADE, related_name="presences")
    inside = models.BooleanField(default=False)
    entries = models.PositiveIntegerField(default=0)
    last_entry = models.ForeignKey(
        "Checkin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_exit_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pass_obj", "list"], name="presence_unique")]

    def __str__(self) -> str:
        return f"pass {self.pass_obj_id} on list {self.list_id}: {'inside' if self.inside else 'outside'}"


class Kind(models.TextChoices):
    ENTRY = "entry", "入场"
    EXIT = "exit", "离场"
    ANNUL = "annul", "撤销"  # an annulment of an earlier scan (``Checkin.annuls``)


class Reason(models.TextChoices):
    INVALID = "invalid", "无效"
    REVOKED = "revoked", "已撤销"
    ALREADY_REDEEMED = "already_redeemed", "已核验"
    NOT_ON_LIST = "not_on_list", "不在清单"
    INVALID_TIME = "invalid_time", "不在时段"
    BLOCKED = "blocked", "已冻结"
    AMBIGUOUS = "ambiguous", "清单不明确"


class Checkin(models.Model):
    """One scan, admitted or refused. Append-only: rows are written once and never changed."""

    class Status(models.TextChoices):
        OK = "ok", "通过"
        ERROR = "error", "拒绝"

    class Source(models.TextChoices):
        SOCKET = "socket", "websocket"
        HTTP = "http", "HTTP"
        AUTO = "auto", "自动"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkins")
    seq = models.PositiveBigIntegerField()
    pass_obj = models.ForeignKey(
        Pass, null=True, blank=True, on_delete=models.PROTECT, related_name="checkins", db_column="pass_id"
    )
    list = models.ForeignKey(
        CheckinList, null=True, blank=True, on_delete=models.PROTECT, related_name="checkins"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    status = models.CharField(max_length=5, choices=Status.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    scanned_at = models.DateTimeField()
    received_at = models.DateTimeField()
    late = models.BooleanField(default=False)
    nonce = models.CharField(max_length=64)
    device = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=6, choices=Source.choices)
    scanner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The registered device the scan came from, and its gate at the time.
    device_ref = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="checkins"
    )
    gate = models.CharField(max_length=50, blank=True)
    # For an entry answered already_redeemed, or an exit: the entry it refers to, and its gate.
    entry_at = models.DateTimeField(null=True, blank=True)
    entry_gate = models.CharField(max_length=50, blank=True)
    # An offline scan the device admitted on its own (``forced``): recorded as admitted; when our
    # decision would have differed, ``conflict`` is the reason we would have given.
    forced = models.BooleanField(default=False)
    conflict = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    # An annulment (kind ``annul``): the scan it annuls, and why.
    annuls = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="annulment"
    )
    note = models.CharField(max_length=200, blank=True)
    # Counts right after this scan (event and its list), so a replay shows what the live feed showed.
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["event", "seq"], name="checkin_seq_unique"),
            models.UniqueConstraint(fields=["event", "nonce"], name="checkin_nonce_unique"),
        ]
        indexes = [
            models.Index(fields=["pass_obj", "scanned_at"]),
            models.Index(fields=["event", "seq"], condition=~models.Q(conflict=""), name="checkin_conflicts"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.status} {self.reason}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Check-in rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Check-in rows are append-only.")
