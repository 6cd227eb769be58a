"""Staff sign in to the Django admin without passwords.

A staff member signed in to the Linli app (by their phone number: Firebase's SMS code or WeChat,
the app's own sign-in) asks it for a one-time code (``POST /api/v1/me/staff-sign-in-code``); the
code appears on their phone and they type it, with the phone number, into the admin's login
page. Proof of the phone and of the app session stands in for a password, and nobody holds a
password that could be shared. Codes last five minutes, work once, and die after five wrong
tries; the admin's cookie session is tied to an ``AuthSession`` (method ``admin``), so logging
out, a revoked session or a cancelled account ends it like any other device.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.accounts.errors import NotStaff, StaffCodeInvalid
from backend.accounts.models import AuthSession, StaffSignInCode, User
from backend.accounts.selectors import user_grants
from backend.accounts.services.roles import ADMIN_ROLES
from backend.accounts.services.sessions import session_open
from backend.core.audit import audit_record
from backend.core.validators import normalize_mainland_mobile

CODE_TTL = timedelta(minutes=5)
CODE_DIGITS = 6
MAX_ATTEMPTS = 5


def _code_hash(user_id: int, code: str) -> str:
    key = hashlib.sha256(b"linli staff code\x00" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def user_works_in_admin(user: User) -> bool:
    """Superusers, and holders of a role that works in the admin (reviewers, coordinators,
    association admins, platform admins) whose account is active."""
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or any(g.role in ADMIN_ROLES for g in user_grants(user))


def staff_code_issue(*, user: User) -> tuple[str, int]:
    """A new one-time admin sign-in code for ``user`` (earlier unused codes stop working).
    Returns the code and its lifetime in seconds."""
    if not user_works_in_admin(user):
        raise NotStaff()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        StaffSignInCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        row = StaffSignInCode.objects.create(
            user=user, code_hash=_code_hash(user.pk, code), expires_at=now + CODE_TTL
        )
        audit_record(actor=user, action="auth.staff_code_issued", target=row)
    return code, int(CODE_TTL.total_seconds())


def staff_signin(*, phone: str, code: str) -> AuthSession:
    """The admin session for a staff member's phone number and their current code, or
    ``StaffCodeInvalid`` (the same answer whatever was wrong)."""
    user = _staff_user(phone)
    if not _code_spend(user=user, code=(code or "").strip()):
        raise StaffCodeInvalid()
    if not user_works_in_admin(user):
        raise NotStaff()
    return session_open(user=user, method="admin")


def _code_spend(*, user: User, code: str) -> bool:
    """Spend the user's current code if ``code`` is it; a wrong one counts as a try (committed)."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            StaffSignInCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_ATTEMPTS)
            .order_by("-pk")
            .first()
        )
        if row is None:
            return False
        if not hmac.compare_digest(row.code_hash, _code_hash(user.pk, code)):
            StaffSignInCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            audit_record(actor=user, action="auth.staff_code_refused", target=row)
            return False
        row.used_at = now
        row.save(update_fields=["used_at"])
    return True


def _staff_user(phone: str) -> User:
    try:
        number = normalize_mainland_mobile(phone or "")
    except ValueError:
        raise StaffCodeInvalid() from None
    user = User.objects.filter(phone=number, is_active=True).first()
    if user is None:
        raise StaffCodeInvalid()
    return user


def staff_session_live(*, session_id: int | None, user: User) -> bool:
    """Whether the admin session's ``AuthSession`` still stands (logout and revocation end it)."""
    if not session_id:
        return False
    return AuthSession.objects.filter(pk=session_id, user=user, revoked_at__isnull=True).exists()
