"""Practitioner credentials (从业人员资格): associations, practitioners, credentials with signed QR
badges, credit records, blacklist entries, and the log of public lookups."""

from __future__ import annotations

from django.conf import settings
from django.db import models

#: The purpose ID numbers are sealed and blind-indexed under (``backend.core.crypto``).
ID_PURPOSE = "credentials.practitioner.id_number"


class Association(models.Model):
    """An industry association (行业协会) that registers practitioners, e.g. the city gas association."""

    name = models.CharField(max_length=100, unique=True)
    short_name = models.CharField(max_length=30, blank=True)
    uscc = models.CharField(max_length=18, blank=True)  # unified social credit code, validated
    contact_phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Practitioner(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "在职"
        LEFT = "left", "已离职"

    association = models.ForeignKey(Association, on_delete=models.PROTECT, related_name="practitioners")
    name = models.CharField(max_length=50)
    id_number_sealed = models.CharField(max_length=200)  # seal(number, purpose=ID_PURPOSE)
    id_number_index = models.CharField(max_length=64)  # blind_index: one person once per association
    mobile = models.CharField(max_length=11, blank=True)
    employer = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    photo = models.CharField(max_length=200, blank=True)  # storage name of the cleaned photo
    photo_thumb = models.CharField(max_length=200, blank=True)  # storage name of its thumbnail
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["association", "id_number_index"], name="practitioner_unique_person"
            ),
        ]

    def __str__(self) -> str:
        return f"practitioner {self.pk}"


class Credential(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", "有效"
        SUSPENDED = "suspended", "暂停"
        REVOKED = "revoked", "吊销"

    association = models.ForeignKey(Association, on_delete=models.PROTECT, related_name="credentials")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="credentials")
    type = models.CharField(max_length=50)  # e.g. 燃气安装维修
    certificate_no = models.CharField(max_length=50)
    qualification = models.CharField(max_length=100)  # e.g. 燃气燃烧器具安装维修工（四级）
    valid_from = models.DateField()
    valid_until = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    reason = models.TextField(blank=True)  # of the last suspension / revocation / reinstatement
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The signed badge token (public, like the badge): its random id is what a lookup finds.
    token_id = models.CharField(max_length=32, unique=True)  # hex of the token's random id
    token = models.CharField(max_length=200)
    token_issued = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["association", "certificate_no"], name="credential_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="credential_valid_range"
            ),
        ]
        indexes = [
            models.Index(fields=["association", "valid_until"]),
            # An association's credentials newest first (its credential list, bench growth).
            models.Index(fields=["association", "-id"], name="credential_assoc_newest"),
        ]

    def __str__(self) -> str:
        return f"credential {self.certificate_no}"


class CreditRecord(models.Model):
    """A dated entry in a practitioner's credit file (commendation, complaint, violation, …)."""

    class Kind(models.TextChoices):
        COMMENDATION = "commendation", "表彰"
        TRAINING = "training", "培训"
        COMPLAINT = "complaint", "投诉"
        VIOLATION = "violation", "违规"
        OTHER = "other", "其他"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="credit_records")
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class BlacklistEntry(models.Model):
    """A dated listing of a practitioner on the association's blacklist; lifted, never deleted."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="blacklist_entries")
    listed_on = models.DateField()
    reason = models.TextField()
    basis = models.CharField(max_length=200)  # the rule or decision it rests on
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-listed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=models.Q(lifted_at__isnull=True),
                name="blacklist_one_open_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"blacklist {self.listed_on} practitioner {self.practitioner_id}"


class LookupLog(models.Model):
    """One public lookup (QR page, API or manual): append-only, written in batches off the request.

    No personal data: the token id, the outcome, the channel, a truncated client address (IPv4 /24,
    IPv6 /48) and a coarse client kind."""

    class Result(models.TextChoices):
        VALID = "valid", "有效"
        EXPIRED = "expired", "已过期"
        NOT_YET_VALID = "not_yet_valid", "未生效"
        SUSPENDED = "suspended", "暂停"
        REVOKED = "revoked", "吊销"
        BLACKLISTED = "blacklisted", "黑名单"
        NOT_GENUINE = "not_genuine", "非本平台签发"
        NOT_FOUND = "not_found", "未找到"
        RATE_LIMITED = "rate_limited", "请求过频"

    class Channel(models.TextChoices):
        PAGE = "page", "网页"
        API = "api", "接口"
        MANUAL = "manual", "手动查询"

    at = models.DateTimeField(db_index=True)
    result = models.CharField(max_length=20, choices=Result.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    token_id = models.CharField(max_length=32, blank=True)
    detail = models.CharField(max_length=20, blank=True)  # for not_genuine: malformed / bad_signature / …
    # Plain ids (no foreign keys): the log outlives and never locks the rows it mentions.
    credential_id = models.BigIntegerField(null=True, blank=True)
    association_id = models.BigIntegerField(null=True, blank=True)
    client_net = models.CharField(max_length=50, blank=True)
    client_kind = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["association_id", "at"]),
            models.Index(fields=["credential_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.channel} {self.result}"
