"""The signed-URL file view (``backend.core.signed_urls``): ``GET /m/<expires>/<sig>/<name>``.

Private files have no public URL: Django checks the signature and the expiry, then sends the file
itself or, behind nginx (``LINLI_MEDIA_ACCEL_REDIRECT``, e.g. ``/protected-media/``), hands the
sending to nginx with ``X-Accel-Redirect`` to that internal location. A generated image (a pass
QR, a badge) that is not cached yet is drawn by its domain first (``signed_urls.media_render``).
"""

from __future__ import annotations

import contextlib
import mimetypes
import time
import urllib.parse

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase

from backend.core.errors import DomainError, NotFound
from backend.core.i18n import T
from backend.core.middleware import error_response
from backend.core.signed_urls import BadSignedUrl, media_render, verify


class SignedUrlExpired(DomainError):
    code = "url_expired"
    status = 403
    message = T("链接已过期，请刷新后重试。", "This link has expired; reload to get a new one.")


class SignedUrlInvalid(DomainError):
    code = "url_invalid"
    status = 403
    message = T("链接无效。", "This link is not valid.")


def _rendered(name: str) -> bool:
    """Draw a generated image that is not cached yet, and cache it; False when nobody owns it."""
    for render in media_render:
        content = render(name)
        if content is None:
            continue
        if not default_storage.exists(name):
            saved = default_storage.save(name, ContentFile(content))
            if saved != name:  # drawn by a concurrent request meanwhile: keep one copy
                with contextlib.suppress(OSError):
                    default_storage.delete(saved)
        return True
    return False


def _sent(name: str, expires: int) -> HttpResponseBase:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    accel = str(getattr(settings, "LINLI_MEDIA_ACCEL_REDIRECT", "") or "")
    response: HttpResponseBase
    if accel:
        response = HttpResponse(b"", content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + urllib.parse.quote(name)
    else:
        response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    remaining = max(0, expires - int(time.time()))
    response["Cache-Control"] = f"private, max-age={remaining}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def signed_media(request: HttpRequest, expires: int, signature: str, name: str) -> HttpResponseBase:
    try:
        verify(expires, signature, name)
    except BadSignedUrl as bad:
        error = SignedUrlExpired() if bad.reason == "expired" else SignedUrlInvalid()
        return error_response(request, error)
    if not default_storage.exists(name) and not _rendered(name):
        return error_response(request, NotFound())
    return _sent(name, expires)
