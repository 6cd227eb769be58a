"""What every WeChat service shares: "is WeChat on", and WeChat's failures as Linli's errors."""

from __future__ import annotations

import logging

from backend.core.errors import DomainError
from backend.wechat import conf, http
from backend.wechat.errors import (
    WeChatCodeInvalid,
    WeChatCodeUsed,
    WeChatNotConfigured,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)

log = logging.getLogger("linli.wechat")

CODE_INVALID = 40029
CODE_USED = 40163
RATE_LIMITED = 45011
USER_BLOCKED = 40226


def require_configured() -> None:
    if not conf.configured():
        raise WeChatNotConfigured()


def as_domain_error(exc: Exception, *, code_error: type[DomainError] = WeChatCodeInvalid) -> DomainError:
    """WeChat's answer (or its silence) as the error a client gets. Configuration mistakes
    (wrong app id or secret) are logged for the operators and look like an outage to clients."""
    if isinstance(exc, http.WeChatError):
        known: dict[int, type[DomainError]] = {
            CODE_INVALID: code_error,
            CODE_USED: WeChatCodeUsed,
            RATE_LIMITED: WeChatRateLimited,
            USER_BLOCKED: WeChatUserBlocked,
        }
        if exc.errcode in known:
            return known[exc.errcode]()
        if exc.errcode != http.BUSY:
            log.error("WeChat refused a call: %s", exc)
    else:
        log.warning("WeChat unavailable: %s", exc)
    return WeChatUnavailable()
