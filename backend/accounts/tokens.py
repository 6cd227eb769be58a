"""Short-lived signed access tokens: ``v1.<payload>.<mac>``, both parts unpadded base64url.

The payload names the user and the sign-in session, so a logout ends the access token at once
(the session is looked up on every authenticated request). Only characters valid in an HTTP
token appear, so the same string can travel as a websocket subprotocol.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing

PREFIX = "v1"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"linli access token\x00" + secret.encode()).digest()


def _mac(message: bytes) -> bytes:
    return hmac.new(_key(settings.SECRET_KEY), message, hashlib.sha256).digest()


def access_token_issue(*, user_id: int, session_id: int, ttl: int | None = None) -> tuple[str, int]:
    ttl = settings.LINLI_ACCESS_TOKEN_TTL if ttl is None else ttl
    expires_at = int(time.time()) + ttl
    payload = _b64(
        json.dumps({"u": user_id, "s": session_id, "e": expires_at}, separators=(",", ":")).encode()
    )
    signed = f"{PREFIX}.{payload}"
    return f"{signed}.{_b64(_mac(signed.encode()))}", ttl


def access_token_decode(token: str, *, now: float | None = None) -> AccessClaims | None:
    """The claims of a genuine, unexpired token; ``None`` for anything else."""
    claims = _genuine_claims(token)
    if claims is None or claims.expires_at <= (time.time() if now is None else now):
        return None
    return claims


def access_token_expired(token: str, *, now: float | None = None) -> bool:
    """Whether ``token`` is one of ours whose time is up: the client refreshes it (401
    ``token_expired``) rather than signing in again (401 ``invalid_token``)."""
    claims = _genuine_claims(token)
    return claims is not None and claims.expires_at <= (time.time() if now is None else now)


def _genuine_claims(token: str) -> AccessClaims | None:
    if not token or len(token) > 512:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        mac = _unb64(parts[2])
        if not hmac.compare_digest(mac, _mac(f"{parts[0]}.{parts[1]}".encode())):
            return None
        data = json.loads(_unb64(parts[1]))
        claims = AccessClaims(user_id=int(data["u"]), session_id=int(data["s"]), expires_at=int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return claims


# --- keep-account tokens --------------------------------------------------------------------------
# Signing in during a cancellation's cooling-off period answers 409 with one of these: the proof
# that this person just signed in, which ``POST /auth/keep-account`` exchanges for a session
# (the cancellation withdrawn). Signed with SECRET_KEY, valid for ten minutes.

KEEP_SALT = "linli.accounts.keep-account"
KEEP_TTL = 600


def keep_token_issue(*, user_id: int, cancellation_id: int) -> str:
    return signing.dumps({"u": user_id, "c": cancellation_id}, salt=KEEP_SALT, compress=False)


def keep_token_decode(token: str) -> tuple[int, int] | None:
    """``(user_id, cancellation_id)`` of a genuine, recent keep-account token, else ``None``."""
    try:
        data = signing.loads(token, salt=KEEP_SALT, max_age=KEEP_TTL)
        return int(data["u"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
