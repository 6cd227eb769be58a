"""Facts about the current request that services record (audit, logs) without passing them around."""

from __future__ import annotations

import contextvars
import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""
    host: str = ""  # the Host header as sent (backend.core.links checks it before any use)
    request_id: str = field(default_factory=lambda: secrets.token_hex(8))


_current: contextvars.ContextVar[RequestMeta | None] = contextvars.ContextVar("linli_request", default=None)


def current_meta() -> RequestMeta:
    return _current.get() or RequestMeta(request_id="")


def set_meta(meta: RequestMeta) -> contextvars.Token:
    return _current.set(meta)


def reset_meta(token: contextvars.Token) -> None:
    _current.reset(token)


def client_ip(meta: dict, num_proxies: int) -> str | None:
    """The client address: REMOTE_ADDR, or the entry a trusted proxy added to X-Forwarded-For."""
    remote = meta.get("REMOTE_ADDR") or None
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[-min(num_proxies, len(hops))]
