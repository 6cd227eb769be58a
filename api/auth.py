"""One bearer auth for the whole API: Linli access tokens, checked against the live session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from backend.accounts.selectors import session_from_access_token, vouched_session
from backend.accounts.tokens import access_token_expired
from backend.core.errors import InvalidToken, TokenExpired


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        session = vouched_session(getattr(request, "scope", None), token) or session_from_access_token(token)
        if session is None:
            raise TokenExpired() if access_token_expired(token) else InvalidToken()
        request.user = session.user
        request.auth_session = session  # type: ignore[attr-defined]
        return session.user


bearer = BearerAuth()


def optional_user(request: HttpRequest) -> Any:
    """The signed-in user for endpoints the public may call too (``auth=None``), else ``None``."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    session = session_from_access_token(header[7:].strip())
    return session.user if session else None


class AuthedRequest(HttpRequest):
    """The request as views see it after ``BearerAuth``: for type checkers only."""

    auth: Any
    auth_session: Any


def signed_in_or_anonymous(request: HttpRequest) -> Any:
    """For public endpoints that show more to some users: the signed-in user, ``None`` without an
    ``Authorization`` header, and 401 ``invalid_token`` for a token that is no longer valid (so the
    app refreshes it rather than silently seeing the public view)."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    user = optional_user(request)
    if user is None:
        raise InvalidToken()
    return user
