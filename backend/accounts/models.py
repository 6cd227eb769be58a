from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, identified by a mainland mobile number (``13800138000``)."""

    phone = models.CharField(max_length=11, unique=True)
    display_name = models.CharField(max_length=50, blank=True)
    firebase_uid = models.CharField(max_length=128, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = []

    def __str__(self) -> str:
        return self.display_name or self.phone


class Role(models.TextChoices):
    REVIEWER = "reviewer", "审核员"
    GROUP_REP = "group_rep", "社会组织负责人"
    COORDINATOR = "coordinator", "协调员"
    SCANNER = "scanner", "检票员"
    ASSOCIATION_ADMIN = "association_admin", "协会管理员"
    PLATFORM_ADMIN = "platform_admin", "平台管理员"


class ScopeType(models.TextChoices):
    NONE = "", "—"
    DIVISION = "division", "区划"
    GROUP = "group", "社会组织"
    ORGANISATION = "organisation", "志愿组织"
    EVENT = "event", "活动"
    ASSOCIATION = "association", "行业协会"


# Which scope each role takes; a grant with another scope type is refused.
ROLE_SCOPES: dict[str, set[str]] = {
    Role.REVIEWER: {ScopeType.DIVISION},
    Role.GROUP_REP: {ScopeType.GROUP},
    Role.COORDINATOR: {ScopeType.ORGANISATION, ScopeType.EVENT},
    Role.SCANNER: {ScopeType.EVENT},
    Role.ASSOCIATION_ADMIN: {ScopeType.ASSOCIATION},
    Role.PLATFORM_ADMIN: {ScopeType.NONE},
}


class Grant(models.Model):
    """A role held by a user over one scope: ``reviewer`` of division 440309005, …"""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=30, choices=Role.choices)
    scope_type = models.CharField(max_length=20, choices=ScopeType.choices, blank=True, default="")
    scope_id = models.CharField(max_length=40, blank=True, default="")
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="grants_given"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Until when the role holds (None: until revoked). A lapsed grant counts for nothing at once
    # (``user_grants``); the ``accounts.grants_expire`` job then revokes it (sockets close too).
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_type", "scope_id"], name="grant_unique"),
        ]
        indexes = [models.Index(fields=["role", "scope_type", "scope_id"])]

    def __str__(self) -> str:
        return f"{self.role}:{self.scope_type}:{self.scope_id}"


class AuthSession(models.Model):
    """One signed-in device. Access tokens name it, so logout ends them at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=20)  # firebase | dev
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id} ({self.method})"


class RefreshToken(models.Model):
    """Opaque refresh tokens, stored as SHA-256; each is used once and replaced (rotation)."""

    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"


class StaffSignInCode(models.Model):
    """A one-time code for the Django admin, asked for in the Linli app by a signed-in staff
    member (so it reaches their phone through the app's own sign-in) and typed into the admin's
    login form with the phone number. Stored as a keyed hash; single use, short-lived, a few tries."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"staff sign-in code {self.pk} of user {self.user_id}"


class AccountCancellation(models.Model):
    """注销: asked for at ``requested_at``, carried out at ``effective_at`` (after the cooling-off
    period) unless withdrawn. Afterwards the row stays as the record that the account was
    cancelled, naming only the pseudonym the kept records carry."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cancellations")
    requested_at = models.DateTimeField(auto_now_add=True)
    effective_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    pseudonym = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(withdrawn_at__isnull=True, completed_at__isnull=True),
                name="account_cancellation_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["effective_at"], name="accounts_cancel_due")]

    def __str__(self) -> str:
        return f"cancellation {self.pk} of user {self.user_id}"
