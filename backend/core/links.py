"""Absolute links that leave the server (QR codes, messages, URLs handed to WeChat).

``LINLI_PUBLIC_SCHEME://LINLI_PUBLIC_HOST``: in production the ICP-filed domain whose prefixes
the mini-program's "scan ordinary QR code" rule maps to its pages.
"""

from __future__ import annotations

from django.conf import settings


def public_origin() -> str:
    scheme = getattr(settings, "LINLI_PUBLIC_SCHEME", "https") or "https"
    return f"{scheme}://{settings.LINLI_PUBLIC_HOST}"


def public_url(path: str) -> str:
    return public_origin() + (path if path.startswith("/") else "/" + path)
