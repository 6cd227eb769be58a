from __future__ import annotations

import time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from backend.accounts.hooks import Delegation, grant_delegations, grant_scope_exists
from backend.accounts.models import AccountCancellation, AuthSession, Grant, Role, User
from backend.accounts.tokens import access_token_decode
from backend.core.db import PreparedValues
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import normalize_mainland_mobile

_SESSION_FIELDS = [f.attname for f in AuthSession._meta.concrete_fields]
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]


def sessions_in_force(**filters: Any) -> QuerySet[AuthSession]:
    """Sessions that still sign their user in (not ended, the account active): the one test of
    every signed-in request (also the sign-up gate's, ``api.volunteers.fastpath``)."""
    return AuthSession.objects.filter(revoked_at__isnull=True, user__is_active=True, **filters)


def live_sessions(*, session_id: Any, user_id: Any) -> QuerySet[AuthSession]:
    """The session an access token names, if it is in force."""
    return sessions_in_force(pk=session_id, user_id=user_id)


_live_session = PreparedValues(
    lambda session_id, user_id: live_sessions(session_id=session_id, user_id=user_id).values_list(
        *_SESSION_FIELDS, *[f"user__{name}" for name in _USER_FIELDS]
    )[:1],
    "session_id",
    "user_id",
)


def session_from_access_token(token: str) -> AuthSession | None:
    """The live session an access token names, with its user; one query (compiled once: every
    request runs it), ``None`` if not usable."""
    claims = access_token_decode(token)
    if claims is None:
        return None
    row = _live_session.first(claims.session_id, claims.user_id)
    if row is None:
        return None
    split = len(_SESSION_FIELDS)
    session = AuthSession.from_db("default", _SESSION_FIELDS, row[:split])
    session.user = User.from_db("default", _USER_FIELDS, row[split:])
    return session


VOUCHED = "linli.session_vouched"
"""ASGI scope key: ``(token, session_id, user_id, read_at)`` set by an in-process fast path that
has just read the token's session in force (``sessions_in_force``, at ``time.monotonic()``
``read_at``): the sign-up gate, ``api.volunteers.fastpath``. Only the server's own ASGI apps
write a scope; nothing a client sends reaches its keys."""
VOUCH_FOR = 1.0
"""Seconds a vouched read stands in for the session query; an older one is read again."""


def vouched_session(scope: dict[str, Any] | None, token: str) -> AuthSession | None:
    """The session a fast path read in force for this very token within ``VOUCH_FOR`` seconds,
    without a query, else ``None`` (the caller reads it: ``session_from_access_token``).

    In a sign-up burst that query was 7 % of the server's CPU per successful sign-up (py-spy,
    PostgreSQL), for an answer the gate's shared read had given moments before. The session and
    its user come back with their ids only (``is_active``: the read required it); any other
    field is loaded from the database if something reads it, as for a deferred field."""
    vouched = (scope or {}).get(VOUCHED)
    if not vouched:
        return None
    vouched_token, session_id, user_id, read_at = vouched
    if vouched_token != token or time.monotonic() - read_at > VOUCH_FOR:
        return None
    session = AuthSession.from_db("default", ["id", "user_id", "revoked_at"], [session_id, user_id, None])
    session.user = User.from_db("default", ["id", "is_active"], [user_id, True])
    return session


def session_in_force(*, session_id: int) -> bool:
    """Whether a session still signs its user in (not ended, the account not disabled): what an
    open socket asks again when told its session or roles may have changed."""
    return AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True, user__is_active=True).exists()


def user_grants_forget(user: User) -> None:
    """Drop the grants cached on a long-lived user object (an open socket's), so the next
    permission check reads them again."""
    user.__dict__.pop("_linli_grants", None)


def user_grants(user: User) -> list[Grant]:
    """The user's grants, cached on the user object for the rest of the request."""
    cached = getattr(user, "_linli_grants", None)
    if cached is None:
        cached = list(
            Grant.objects.filter(user_id=user.pk)
            .filter(grant_in_force_q())
            .order_by("role", "scope_type", "scope_id")
        )
        user._linli_grants = cached  # type: ignore[attr-defined]
    return cached


def grant_in_force_q() -> Q:
    """Grants that hold now: no end, or an end still ahead."""
    return Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now())


def user_is_platform_admin(user: User) -> bool:
    return bool(user and user.is_authenticated) and any(
        g.role == Role.PLATFORM_ADMIN for g in user_grants(user)
    )


def user_has_role(
    user: User, role: str, *, scope_type: str | None = None, scope_id: str | int | None = None
) -> bool:
    if not (user and user.is_authenticated):
        return False
    for grant in user_grants(user):
        if grant.role != role:
            continue
        if scope_type is not None and grant.scope_type != scope_type:
            continue
        if scope_id is not None and grant.scope_id != str(scope_id):
            continue
        return True
    return False


def user_scope_ids(user: User, role: str, scope_type: str) -> list[str]:
    if not (user and user.is_authenticated):
        return []
    return [g.scope_id for g in user_grants(user) if g.role == role and g.scope_type == scope_type]


def division_within(code: str, ancestor: str) -> bool:
    """Statistical division codes nest by prefix: 440309005 lies within 440309 and 4403."""
    return bool(ancestor) and code.startswith(ancestor)


def user_reviews_division(user: User, division_code: str) -> bool:
    """A reviewer of a division reviews it and everything below it."""
    return any(
        division_within(division_code, scope) for scope in user_scope_ids(user, Role.REVIEWER, "division")
    )


# --- managing grants -------------------------------------------------------------------------------


def user_delegations(user: User) -> list[Delegation]:
    """What ``user`` may grant and revoke without being a platform admin (cached per request)."""
    cached = getattr(user, "_linli_delegations", None)
    if cached is None:
        cached = [d for found in grant_delegations.call_all(user) for d in found]
        user._linli_delegations = cached  # type: ignore[attr-defined]
    return cached


def grant_scope_known(*, scope_type: str, scope_id: str) -> bool:
    """Whether the scope exists, as the domain that owns its type says (no scope: always)."""
    if not scope_type:
        return True
    answers = [a for a in grant_scope_exists.call_all(scope_type, scope_id) if a is not None]
    return bool(answers) and all(answers)


def grants_managed_by(user: User) -> QuerySet[Grant] | None:
    """The grants ``user`` may see and revoke; ``None`` when they manage none at all."""
    qs = Grant.objects.select_related("user", "granted_by")
    if user_is_platform_admin(user):
        return qs
    delegations = user_delegations(user)
    if not delegations:
        return None
    q = Q(pk__in=[])
    for d in delegations:
        q |= Q(role__in=sorted(d.roles), scope_type=d.scope_type, scope_id__in=sorted(d.scope_ids))
    return qs.filter(q)


def grant_list_filter(qs: QuerySet[Grant], **filters: Any) -> QuerySet[Grant]:
    """Narrow by ``user_id``, ``role``, ``scope_type``, ``scope_id`` (each optional)."""
    wanted = {key: value for key, value in filters.items() if value not in (None, "")}
    return qs.filter(**wanted)


def grantee_get(*, user_id: int | None, phone: str | None) -> User:
    """The active account a role is granted to, by id or by mainland mobile number (exactly one);
    a field error otherwise. A phone with no account yet: the person signs in to the app first."""
    if (user_id is None) == (phone is None):
        raise ValidationFailed(
            errors=[
                field_error(
                    "user_id", "one_of", T("请填写 user_id 或 phone 之一。", "Give user_id or phone.")
                )
            ]
        )
    if phone is not None:
        try:
            number = normalize_mainland_mobile(phone)
        except ValueError:
            raise ValidationFailed(
                errors=[field_error("phone", "invalid_phone", T("手机号无效。", "Invalid phone number."))]
            ) from None
        user = User.objects.filter(phone=number, is_active=True).first()
        field = "phone"
    else:
        user = User.objects.filter(pk=user_id or 0, is_active=True).first()
        field = "user_id"
    if user is None:
        raise ValidationFailed(
            errors=[
                field_error(
                    field,
                    "user_not_found",
                    T(
                        "找不到该用户（请先登录一次应用）。",
                        "No such user (they sign in to the app once first).",
                    ),
                )
            ]
        )
    return user


def pending_cancellation(*, user: User) -> AccountCancellation | None:
    """The user's cancellation in its cooling-off period (requested, neither withdrawn nor done)."""
    return AccountCancellation.objects.filter(
        user=user, withdrawn_at__isnull=True, completed_at__isnull=True
    ).first()
