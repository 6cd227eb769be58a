from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

from backend.core.context import client_ip

log = logging.getLogger("linli.api")


class ClientIpThrottle(SimpleRateThrottle):
    """Rate limit per client address (honouring ``LINLI_NUM_PROXIES`` trusted proxies), whether
    or not the caller is signed in: ``ClientIpThrottle("60/m", "lookup")``. With ``setting=`` the
    rate is read from that setting on every request, so it can change without rebuilding the API."""

    def __init__(self, rate: str | None = None, scope: str = "ip", *, setting: str | None = None) -> None:
        self.setting = setting
        self.scope_name = scope
        super().__init__(getattr(settings, setting) if setting else rate)

    def allow_request(self, request: HttpRequest) -> bool:
        if self.setting:
            self.rate = getattr(settings, self.setting)
            self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request)
        except Exception:
            # The counts live in the shared cache (Redis): while it is away, let the request
            # through rather than fail it (as the lookup's own rate limit does).
            log.warning("throttle %s: the cache cannot be reached; request let through", self.scope_name)
            return True

    def get_ident(self, request: HttpRequest) -> str | None:
        return client_ip(request.META, settings.NINJA_NUM_PROXIES)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        return f"throttle:{self.scope_name}:{self.get_ident(request)}"


def signin_throttle() -> ClientIpThrottle:
    return ClientIpThrottle(setting="LINLI_SIGNIN_RATE", scope="signin")


class UserThrottle(SimpleRateThrottle):
    """Rate limit per signed-in user, the rate read from ``setting`` on every request."""

    def __init__(self, *, setting: str, scope: str) -> None:
        self.setting = setting
        self.scope_name = scope
        super().__init__(getattr(settings, setting))

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = getattr(settings, self.setting)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "auth", None)
        return f"throttle:{self.scope_name}:{getattr(user, 'pk', None)}"


def door_search_throttle() -> UserThrottle:
    return UserThrottle(setting="LINLI_CHECKIN_SEARCH_RATE", scope="door_search")
