"""Short-lived signed URLs for private files (the mini-program's ``<image>`` sends no headers).

An API response that may show a private image (a pass QR, an attachment thumbnail, a photo)
carries ``/m/<expiry>/<signature>/<storage name>``: whoever was allowed to read the response may
fetch the file until the expiry, nobody else and never later. The signature (HMAC-SHA256 under a
key derived from the data key) binds the storage name and the expiry, so neither can be changed.
The same URLs, with a longer life, let WeChat download an image it is asked to check.

Images Linli draws itself (a pass QR, a printable badge) are cached in storage under
``generated_name``: a keyed digest of what the image shows, so the name cannot be guessed and
changes whenever the picture would. The owning domain draws one the first time its signed URL is
fetched (``media_render``), so a list answer only signs names and never draws.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable

from django.conf import settings

from backend.core.crypto import derive_key
from backend.core.hooks import Hook
from backend.core.links import public_url

PREFIX = "/m/"
DEFAULT_TTL = 600
_KEY_INFO = b"linli signed media urls v1"
GENERATED = "generated"
_GENERATED_NAME = re.compile(r"^generated/([a-z0-9_-]+)/(\d{1,18})/[0-9a-f]{32}\.[a-z]{3,4}$")

#: ``(name: str) -> bytes | None``: the domain that owns a generated image draws it the first time
#: its signed URL is fetched; ``None`` when the name is not its own or no longer current (a pass
#: re-issued since the URL was signed).
media_render: Hook[Callable[[str], bytes | None]] = Hook("core.media_render")


class BadSignedUrl(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason  # "expired" | "invalid"
        super().__init__(reason)


def _key() -> bytes:
    return _derived(getattr(settings, "LINLI_DATA_KEY", "") or settings.SECRET_KEY)


@functools.cache
def _derived(secret: str) -> bytes:
    return derive_key(secret, info=_KEY_INFO)


def _signature(name: str, expires: int) -> str:
    mac = hmac.new(_key(), f"{expires}\n{name}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode()


def signed_path(name: str, *, ttl: int | None = None, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + (ttl or default_ttl()))
    return f"{PREFIX}{expires}/{_signature(name, expires)}/{name}"


def signed_url(name: str, *, ttl: int | None = None) -> str:
    """The absolute URL (``LINLI_PUBLIC_HOST``) of ``name`` for ``ttl`` seconds."""
    return public_url(signed_path(name, ttl=ttl))


def verify(expires: int, signature: str, name: str, *, now: float | None = None) -> str:
    """The storage name, or ``BadSignedUrl``: a wrong signature is ``invalid``, a right one past its
    expiry ``expired``."""
    if not hmac.compare_digest(_signature(name, expires), signature):
        raise BadSignedUrl("invalid")
    if expires < (now if now is not None else time.time()):
        raise BadSignedUrl("expired")
    return name


def default_ttl() -> int:
    return int(getattr(settings, "LINLI_SIGNED_URL_TTL", DEFAULT_TTL))


def generated_name(kind: str, object_id: int, *state: object, ext: str = "png") -> str:
    """The storage name of an image drawn from ``state`` (what it shows): under
    ``generated/<kind>/<object_id>/``, named by a keyed digest of ``state``."""
    text = "\n".join([kind, str(object_id), *(str(part) for part in state)])
    digest = hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{GENERATED}/{kind}/{object_id}/{digest}.{ext}"


def generated_object_id(name: str, kind: str) -> int | None:
    """The object id of a ``generated_name`` of ``kind``, or ``None`` for any other name."""
    match = _GENERATED_NAME.match(name)
    if match is None or match.group(1) != kind:
        return None
    return int(match.group(2))
