from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message to one person: the in-app inbox row and the push outbox at once.

    Written in the same transaction as its cause; delivery to devices happens after commit. The
    ``push_*`` fields are the outbox state: ``pending`` until every device has been tried,
    ``push_after`` holds it back (quiet hours, retry backoff), ``push_lease_until`` keeps two
    workers from sending it at the same time.
    """

    class PushState(models.TextChoices):
        PENDING = "pending", "待推送"
        DONE = "done", "已推送"
        SKIPPED = "skipped", "不推送"
        FAILED = "failed", "推送失败"

    # No index of its own: (user, -id) serves every lookup by user and the inbox's order, and
    # with a second one PostgreSQL read all of a user's rows through it and sorted them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=60)
    category = models.CharField(max_length=20)
    title = models.CharField(max_length=120)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)  # kind, object_type, object_id, link
    params = models.JSONField(default=dict, blank=True)  # what the kind's templates were filled with
    urgent = models.BooleanField(default=False)
    # Scheduled jobs pass a key (e.g. "shift.reminder:24h:812") so running them twice notifies once.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    push_state = models.CharField(max_length=10, choices=PushState.choices, default=PushState.PENDING)
    push_after = models.DateTimeField(null=True, blank=True)
    push_attempts = models.PositiveSmallIntegerField(default=0)
    push_note = models.CharField(max_length=40, blank=True)  # why skipped / failed, last error code
    push_run = models.CharField(max_length=32, blank=True)
    push_lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_user_dedupe"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"]),
            # The unread page and "mark all read" walk only a user's unread rows, newest first
            # (the unread count is kept in InboxCount, not counted).
            models.Index(
                fields=["user", "-id"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(fields=["push_state", "push_after"], name="notification_push_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class InboxCount(models.Model):
    """How many of a user's notifications are unread, kept rather than counted.

    ``notify`` adds one and the read marks take off what they changed, each in the transaction of
    its own write, so the inbox answers the count in one row whatever the inbox holds (counting
    grew with every unread notification: 4 ms at 10^3 notifications, 29 ms at 10^5 on PostgreSQL).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    unread = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(unread__gte=0), name="inbox_count_unread_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.unread} unread for {self.user_id}"


class Device(models.Model):
    """A phone (app instance) that receives push notifications for its signed-in user.

    One row per FCM address: registering the same address again updates the row, also when
    another user has signed in on the phone (the row moves to them).
    """

    class Platform(models.TextChoices):
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        HARMONY = "harmony", "HarmonyOS"
        WEB = "web", "Web"

    class TokenType(models.TextChoices):
        # An FCM registration token (what the FCM client SDKs return from getToken()).
        REGISTRATION = "registration", "FCM registration token"
        # A Firebase installation ID, the address firebase-admin 7 prefers (Message.fid).
        FID = "fid", "Firebase installation ID"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    token = models.TextField()
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 of token: the unique key
    token_type = models.CharField(max_length=12, choices=TokenType.choices, default=TokenType.REGISTRATION)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    # The sign-in session that registered it: once that session ends, the phone gets no more pushes.
    session = models.ForeignKey(
        "accounts.AuthSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.platform}:{self.token_hash[:8]} → {self.user_id}"


class DeliveryAttempt(models.Model):
    """One try to send one notification to one address of a channel (a device through FCM, an
    openid through WeChat subscription messages), kept for the record.

    A row is written as ``sending`` *before* the request leaves, and the unique constraint on
    (notification, token) over ``sending``/``sent`` rows makes sure no address ever gets the same
    notification twice, whatever retries, sweeps or parallel workers do.
    """

    class Outcome(models.TextChoices):
        SENDING = "sending", "发送中"
        SENT = "sent", "已送达 FCM"
        UNREGISTERED = "unregistered", "设备已注销"
        INVALID = "invalid", "无效地址"
        REFUSED = "refused", "用户未授权"
        TRANSIENT = "transient", "暂时失败"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(max_length=10, default="fcm")  # fcm | wechat
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    token_hash = models.CharField(max_length=64)
    attempt = models.PositiveSmallIntegerField()
    run = models.CharField(max_length=32, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error_code = models.CharField(max_length=40, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "token_hash"],
                condition=models.Q(outcome__in=["sending", "sent"]),
                name="delivery_once_per_token",
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}#{self.attempt} {self.outcome}"


class Preference(models.Model):
    """A user's push preferences: muted kinds (only optional categories) and quiet hours."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    quiet_hours = models.BooleanField(default=True)
    muted_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class ScheduledJob(models.Model):
    """Schedule state and lease of one periodic job, shared by every scheduler process.

    A scheduler runs a job only after winning a conditional UPDATE on this row (due and lease
    free → lease taken), which is atomic on SQLite and PostgreSQL alike: two schedulers never run
    the same job at once, and a crashed one's lease simply expires.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=10, blank=True)  # ok | error
    last_error = models.TextField(blank=True)
    last_result = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name
