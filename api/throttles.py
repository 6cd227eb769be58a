from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from backend.core.context import client_ip


class ClientIpThrottle(SimpleRateThrottle):
    """Rate limit per client address (honouring ``LINLI_NUM_PROXIES`` trusted proxies),
    whether or not the caller is signed in."""

    def __init__(self, rate: str, scope: str) -> None:
        self.scope_name = scope
        super().__init__(rate)

    def get_ident(self, request: HttpRequest) -> str | None:
        return client_ip(request.META, settings.NINJA_NUM_PROXIES)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        return f"throttle:{self.scope_name}:{self.get_ident(request)}"


def signin_throttle() -> ClientIpThrottle:
    return ClientIpThrottle(settings.LINLI_SIGNIN_RATE, "signin")
