"""Schemas shared across routers."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


# Documented on every operation that can fail, so clients see the single error body.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    # The database or the media storage away (service_unavailable / storage_unavailable, with
    # Retry-After): any operation may answer it (backend.core.faults).
    503: ErrorOut,
}


def errors(*extra: int) -> dict[int, type[Schema]]:
    """``ERRORS`` plus statuses only some operations answer (413 too large, 415 wrong type,
    503 unavailable): ``response={201: XOut, **errors(413, 415)}``."""
    return {**ERRORS, **dict.fromkeys(extra, ErrorOut)}


class OkOut(Schema):
    ok: bool = True
