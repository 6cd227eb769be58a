from __future__ import annotations

from backend.accounts.models import AuthSession, Grant, Role, User
from backend.accounts.tokens import access_token_decode


def session_from_access_token(token: str) -> AuthSession | None:
    """The live session an access token names, with its user; one query, ``None`` if not usable."""
    claims = access_token_decode(token)
    if claims is None:
        return None
    session = (
        AuthSession.objects.select_related("user")
        .filter(pk=claims.session_id, user_id=claims.user_id, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return session


def user_grants(user: User) -> list[Grant]:
    """The user's grants, cached on the user object for the rest of the request."""
    cached = getattr(user, "_linli_grants", None)
    if cached is None:
        cached = list(Grant.objects.filter(user_id=user.pk).order_by("role", "scope_type", "scope_id"))
        user._linli_grants = cached  # type: ignore[attr-defined]
    return cached


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
