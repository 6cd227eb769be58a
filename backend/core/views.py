"""The signed-URL file view (``backend.core.signed_urls``): ``GET /m/<expires>/<sig>/<name>``."""

from __future__ import annotations

import mimetypes
import time

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponseBase

from backend.core.errors import DomainError, NotFound
from backend.core.i18n import T
from backend.core.middleware import error_response
from backend.core.signed_urls import BadSignedUrl, verify


class SignedUrlExpired(DomainError):
    code = "url_expired"
    status = 403
    message = T("链接已过期，请刷新后重试。", "This link has expired; reload to get a new one.")


class SignedUrlInvalid(DomainError):
    code = "url_invalid"
    status = 403
    message = T("链接无效。", "This link is not valid.")


def signed_media(request: HttpRequest, expires: int, signature: str, name: str) -> HttpResponseBase:
    try:
        verify(expires, signature, name)
    except BadSignedUrl as bad:
        error = SignedUrlExpired() if bad.reason == "expired" else SignedUrlInvalid()
        return error_response(request, error)
    if not default_storage.exists(name):
        return error_response(request, NotFound())
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    remaining = max(0, expires - int(time.time()))
    response["Cache-Control"] = f"private, max-age={remaining}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
