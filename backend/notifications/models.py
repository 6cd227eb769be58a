from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message to one person: the in-app inbox row and the push outbox at once.

    Written in the same transaction as its cause; delivery to devices happens after commit.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60)
    category = models.CharField(max_length=20)
    title = models.CharField(max_length=120)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)  # kind, object_type, object_id, link
    urgent = models.BooleanField(default=False)
    # Scheduled jobs pass a key (e.g. "shift.reminder:24h:812") so running them twice notifies once.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_user_dedupe"),
        ]
        indexes = [models.Index(fields=["user", "-id"]), models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"
