"""WeChat bindings, the shared access token, subscription credits and content checks."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class WeChatAccount(models.Model):
    """One Linli account's WeChat identity in this mini-program (one each way)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat")
    appid = models.CharField(max_length=32)
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)
    # Sealed (backend.core.crypto): WeChat's session key never leaves the server.
    session_key = models.TextField(blank=True)
    bound_at = models.DateTimeField(auto_now_add=True)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appid", "openid"], name="wechat_account_openid")]
        indexes = [models.Index(fields=["unionid"])]

    def __str__(self) -> str:
        return f"{self.openid[:6]}… → user {self.user_id}"


class AccessToken(models.Model):
    """The one access token of the app, shared by every process (sealed at rest)."""

    appid = models.CharField(max_length=32, unique=True)
    token = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetches = models.PositiveIntegerField(default=0)
    # One process at a time fetches a new token; the others wait for it (see backend.wechat.tokens).
    lease_until = models.DateTimeField(null=True, blank=True)

    forced_on = models.DateField(null=True, blank=True)
    forced_count = models.PositiveSmallIntegerField(default=0)
    forced_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"access token of {self.appid} (until {self.expires_at})"


class Subscription(models.Model):
    """What a user answered to ``wx.requestSubscribeMessage`` for one template: one-time templates
    hold a credit per acceptance (one message each); long-term templates have no count."""

    class Answer(models.TextChoices):
        ACCEPT = "accept", "接受"
        REJECT = "reject", "拒绝"
        BAN = "ban", "已关闭订阅"
        FILTER = "filter", "被过滤"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_subscriptions"
    )
    template_id = models.CharField(max_length=64)
    answer = models.CharField(max_length=10, choices=Answer.choices)
    long_term = models.BooleanField(default=False)
    credits = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "template_id"], name="wechat_subscription_unique"),
            models.CheckConstraint(condition=Q(credits__gte=0), name="wechat_subscription_credits_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} of user {self.user_id}: {self.answer} ({self.credits})"


class ContentCheck(models.Model):
    """One text or image that others will see, and WeChat's verdict on it.

    Texts are checked while the request runs (``risky`` is refused there and never stored); when
    WeChat cannot be reached the text is kept ``pending`` and a job checks it later. Images are
    checked asynchronously: the verdict arrives at the message-push callback by ``trace_id``.
    ``review`` and later ``risky`` verdicts are flagged for staff (``resolved_at`` when handled).
    """

    class Kind(models.TextChoices):
        TEXT = "text", "文本"
        IMAGE = "image", "图片"

    class Status(models.TextChoices):
        PENDING = "pending", "待检测"
        PASS = "pass", "通过"
        REVIEW = "review", "需人工复核"
        RISKY = "risky", "违规"
        UNCHECKED = "unchecked", "无法检测（作者无微信身份）"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_id = models.CharField(max_length=40, blank=True)
    field = models.CharField(max_length=60)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scene = models.PositiveSmallIntegerField(default=3)
    text = models.TextField(blank=True)  # kept only while a check is pending
    media = models.CharField(max_length=255, blank=True)  # storage name of the image
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    label = models.IntegerField(null=True, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["trace_id"]),
            models.Index(fields=["target_type", "target_id"]),
            # Whether a stored image is hidden is asked by its storage name (selectors.hidden_media).
            models.Index(fields=["media"], name="wechat_check_media"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.field} of {self.target_type_id}:{self.target_id}: {self.status}"

    @property
    def flagged(self) -> bool:
        return self.status in (self.Status.REVIEW, self.Status.RISKY) and self.resolved_at is None
