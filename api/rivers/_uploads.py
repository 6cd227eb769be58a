"""Request parsing shared by the rivers routers."""

from __future__ import annotations

from ninja.files import UploadedFile

from api.rivers.schemas import PatrolPointIn
from backend.rivers import conf
from backend.rivers.errors import PhotoTooLarge
from backend.rivers.services import PointInput


def read_photo(upload: UploadedFile) -> bytes:
    """The uploaded bytes, refused before reading when the declared size is over the limit."""
    limit = conf.photo_max_bytes()
    if upload.size is not None and upload.size > limit:
        raise PhotoTooLarge(limit=limit, size=upload.size)
    return upload.read()


def point_inputs(items: list[PatrolPointIn]) -> list[PointInput]:
    return [PointInput(at=p.time, lat=p.lat, lon=p.lon, accuracy_m=p.accuracy) for p in items]
