"""Absolute links that leave the server (QR codes, messages, URLs handed to WeChat).

``LINLI_PUBLIC_SCHEME://LINLI_PUBLIC_HOST``: in production the ICP-filed domain whose prefixes
the mini-program's "scan ordinary QR code" rule maps to its pages.

In development without ``LINLI_PUBLIC_HOST`` the links follow the server as it is reached: the
host and port of the request being answered (when it is one of ``ALLOWED_HOSTS``), else the
address ``python -m backend.serve`` listens on (``LINLI_SERVED_HOST``, which ``make run``'s
``HOST``/``PORT`` set), so a QR printed by a server on port 8001 opens port 8001.
"""

from __future__ import annotations

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from backend.core.context import current_meta


def public_host() -> str:
    if getattr(settings, "LINLI_PUBLIC_HOST_FOLLOWS_REQUEST", False):
        host = current_meta().host
        if host and _allowed(host):
            return host
    return settings.LINLI_PUBLIC_HOST


def public_origin() -> str:
    scheme = getattr(settings, "LINLI_PUBLIC_SCHEME", "https") or "https"
    return f"{scheme}://{public_host()}"


def public_url(path: str) -> str:
    return public_origin() + (path if path.startswith("/") else "/" + path)


def _allowed(host: str) -> bool:
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)
