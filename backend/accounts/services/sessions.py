"""Sign-in and sessions: tokens for a phone number proven by Firebase (or dev login), rotation
of refresh tokens, logout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.accounts import firebase
from backend.accounts.errors import (
    AccountDisabled,
    CancellationPending,
    DevLoginDisabled,
    FirebaseNotConfigured,
    InvalidIdToken,
    InvalidPhone,
    InvalidRefreshToken,
    PhoneSignInRequired,
    RefreshTokenReused,
)
from backend.accounts.models import AuthSession, RefreshToken, User
from backend.accounts.selectors import pending_cancellation
from backend.accounts.tokens import access_token_issue, keep_token_issue
from backend.core.audit import audit_record
from backend.core.context import current_meta
from backend.core.times import iso_local
from backend.core.validators import normalize_mainland_mobile
from backend.runtime.sockets import CLOSE_SESSION_ENDED, session_group, sockets_close_after_commit, user_group


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    session: AuthSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalize_phone(phone: str) -> str:
    try:
        return normalize_mainland_mobile(phone)
    except ValueError as exc:
        raise InvalidPhone(errors=[{"field": "phone", "code": "invalid_phone"}]) from exc


def user_get_or_create(*, phone: str, firebase_uid: str | None = None) -> User:
    phone = _normalize_phone(phone)
    with transaction.atomic():
        user, created = User.objects.get_or_create(phone=phone)
        if firebase_uid and user.firebase_uid != firebase_uid:
            user.firebase_uid = firebase_uid
            user.save(update_fields=["firebase_uid"])
        if created:
            audit_record(actor=user, action="user.created", target=user)
    return user


def session_start(*, user: User, method: str) -> TokenPair:
    """A new signed-in device for ``user``: its session, a refresh token and an access token."""
    with transaction.atomic():
        session = session_open(user=user, method=method)
        refresh = _refresh_token_create(session=session)
    access, ttl = access_token_issue(user_id=user.pk, session_id=session.pk)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl, user=user, session=session)


def session_open(*, user: User, method: str) -> AuthSession:
    """The session row every sign-in starts with (the app's tokens name it; the admin's cookie
    session is tied to one). An account in its cancellation cooling-off period is asked first
    whether to keep the account (409 ``account_cancellation_pending``)."""
    if not user.is_active:
        raise AccountDisabled()
    pending = pending_cancellation(user=user)
    if pending is not None:
        raise CancellationPending(
            effective_at=iso_local(pending.effective_at),
            keep_token=keep_token_issue(user_id=user.pk, cancellation_id=pending.pk),
        )
    meta = current_meta()
    with transaction.atomic():
        session = AuthSession.objects.create(
            user=user, method=method, ip=meta.ip, user_agent=meta.user_agent[:300]
        )
        audit_record(actor=user, action="auth.signed_in", target=session, data={"method": method})
    return session


def _refresh_token_create(*, session: AuthSession) -> str:
    token = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        session=session,
        token_hash=_hash(token),
        expires_at=timezone.now() + timedelta(seconds=settings.LINLI_REFRESH_TOKEN_TTL),
    )
    return token


def signin_firebase(*, id_token: str) -> TokenPair:
    """Exchange a Firebase phone-number ID token for Linli's tokens; 503
    ``firebase_not_configured`` on a server without Firebase credentials."""
    if not firebase.configured():
        raise FirebaseNotConfigured()
    try:
        claims = firebase.verify_id_token(id_token)
    except firebase.FirebaseTokenError as exc:
        raise InvalidIdToken() from exc
    provider = (claims.get("firebase") or {}).get("sign_in_provider")
    phone = claims.get("phone_number")
    if provider != "phone" or not phone:
        raise PhoneSignInRequired()
    user = user_get_or_create(phone=phone, firebase_uid=claims.get("uid") or claims.get("sub"))
    return session_start(user=user, method="firebase")


def signin_dev(*, phone: str) -> TokenPair:
    """Sign in by phone number alone: development only, refused when ``LINLI_ENV=prod``."""
    if not settings.LINLI_DEV_LOGIN:
        raise DevLoginDisabled()
    user = user_get_or_create(phone=phone)
    return session_start(user=user, method="dev")


def session_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is spent and a new one issued in the same session.

    A spent token presented again means it leaked or a client misbehaves: the whole session
    ends (refresh-token reuse detection).
    """
    now = timezone.now()
    row = (
        RefreshToken.objects.select_related("session", "session__user")
        .filter(token_hash=_hash(refresh_token or ""))
        .first()
    )
    if row is None or row.session.revoked_at is not None:
        raise InvalidRefreshToken()
    session = row.session
    if row.used_at is not None:
        _session_revoke(session=session, reason="refresh_token_reused")
        raise RefreshTokenReused()
    if row.expires_at <= now:
        raise InvalidRefreshToken()
    if not session.user.is_active:
        raise AccountDisabled()
    with transaction.atomic():
        spent = RefreshToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if not spent:
            # Another request spent it between our read and this update: treat as reuse.
            raise RefreshTokenReused()
        new_refresh = _refresh_token_create(session=session)
    access, ttl = access_token_issue(user_id=session.user_id, session_id=session.pk)
    return TokenPair(
        access_token=access, refresh_token=new_refresh, expires_in=ttl, user=session.user, session=session
    )


def _session_revoke(*, session: AuthSession, reason: str) -> None:
    """The one way a session ends: its tokens stop working and, after commit, its open sockets
    close with 4401 (``backend.runtime.sockets``)."""
    with transaction.atomic():
        AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_record(actor=session.user, action="auth.session_revoked", target=session, reason=reason)
        sockets_close_after_commit(session_group(session.pk), code=CLOSE_SESSION_ENDED)


def session_logout(*, session: AuthSession) -> None:
    _session_revoke(session=session, reason="logout")


def account_disable(*, user: User, by: User | None) -> None:
    """Disable an account (a platform admin's decision): no sign-in, no refresh, every session
    ended and, after commit, every open socket of the person closed with 4401."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        session_revoke_all(user=user, reason="account_disabled")
        audit_record(actor=by, action="account.disabled", target=user)
        sockets_close_after_commit(user_group(user.pk), code=CLOSE_SESSION_ENDED)


def session_revoke_all(*, user: User, reason: str) -> int:
    """End every live session of ``user`` (each through the one revocation path)."""
    sessions = list(AuthSession.objects.filter(user=user, revoked_at__isnull=True).select_related("user"))
    for session in sessions:
        _session_revoke(session=session, reason=reason)
    return len(sessions)
