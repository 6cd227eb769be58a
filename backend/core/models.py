from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    pass


class AuditLog(models.Model):
    """Who changed what, when and from where. Rows are written by services and never changed."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit log rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit log rows are append-only.")


class IdempotencyRecord(models.Model):
    """The first response to an unsafe request with an ``Idempotency-Key``, kept 24 hours."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    # "u<id>" for a signed-in user, "anon" otherwise.
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key} ({self.state})"


class SigningKey(models.Model):
    """An Ed25519 key that signs compact tokens (``backend.core.signed_tokens``) for one purpose.

    The private key is sealed at rest (``backend.core.crypto.seal``), or kept out of the database
    entirely in ``LINLI_SIGNING_KEY_FILE`` (then ``private_key_sealed`` is empty). One key per
    purpose is active and signs; rotation retires it (it still verifies, so printed badges keep
    working until their tokens expire); revocation stops it verifying. ``backend.core.keys`` is the
    only code that reads or writes this table.
    """

    class Purpose(models.TextChoices):
        CREDENTIAL = "credential", "从业人员证件"
        PASS = "pass", "活动凭证"
        SERVICE_PROOF = "service_proof", "志愿服务记录证明"

    class Status(models.TextChoices):
        ACTIVE = "active", "使用中"
        RETIRED = "retired", "已轮换"
        REVOKED = "revoked", "已吊销"

    kid = models.PositiveIntegerField(unique=True)  # the 2-byte key id written into every token
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    public_key = models.CharField(max_length=64)  # urlsafe base64 (unpadded) of the raw 32 bytes
    private_key_sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    # The latest expiry day of any token this key signed, and whether it signed one without expiry:
    # a retired key is published (JWKS) as long as a token it signed may still be valid.
    last_expiry = models.DateField(null=True, blank=True)
    signed_unexpiring = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"],
                condition=models.Q(status="active"),
                name="signingkey_one_active_per_purpose",
            ),
            models.CheckConstraint(condition=models.Q(kid__lte=0xFFFF), name="signingkey_kid_2_bytes"),
        ]
        ordering = ["kid"]

    def __str__(self) -> str:
        return f"{self.purpose} key {self.kid} ({self.status})"
