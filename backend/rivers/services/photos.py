"""Photos of patrols and river issues: stored without metadata (the EXIF position is sealed
apart as evidence), files written before the row that names them and removed if it fails."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from backend.core.audit import audit_record
from backend.core.crypto import seal
from backend.core.errors import InvalidTransition
from backend.rivers import conf
from backend.rivers.errors import PhotoRejected, PhotoTooLarge, PhotoUnsupported, TooManyPhotos
from backend.rivers.models import Patrol, RiverIssue, RiverPhoto
from backend.rivers.selectors import GPS_PURPOSE
from backend.rivers.services._common import delete_files
from backend.wechat.services.security import Scene, image_check_start
from media import MediaError, ProcessedImage, process_image


def _processed(data: bytes) -> ProcessedImage:
    try:
        return process_image(data, max_bytes=conf.photo_max_bytes(), keep_gps=True)
    except MediaError as exc:
        cls = {"file_too_large": PhotoTooLarge, "unsupported_media_type": PhotoUnsupported}.get(
            exc.code, PhotoRejected
        )
        raise cls(code=exc.code, **exc.details) from exc


def _photo_store(
    data: bytes, *, role: str, actor: Any, patrol: Patrol | None = None, issue: RiverIssue | None = None
) -> RiverPhoto:
    image = _processed(data)
    token = secrets.token_urlsafe(18)
    names = []
    try:
        names.append(default_storage.save(f"rivers/photos/{token}.{image.ext}", ContentFile(image.content)))
        names.append(
            default_storage.save(f"rivers/photos/{token}.thumb.{image.ext}", ContentFile(image.thumbnail))
        )
        with transaction.atomic():
            photo = RiverPhoto.objects.create(
                role=role,
                patrol=patrol,
                issue=issue,
                file=names[0],
                thumbnail=names[1],
                content_type=image.content_type,
                width=image.width,
                height=image.height,
                sha256=image.sha256,
                gps_sealed=seal(json.dumps(image.gps), purpose=GPS_PURPOSE) if image.gps else "",
                uploaded_by=actor,
            )
            # Others see it: WeChat's image check, sent after commit (a risky one is then hidden).
            image_check_start(
                owner=actor, media=photo.file, target=photo, field=f"{role}_photo", scene=Scene.FORUM
            )
            audit_record(
                actor=actor,
                action="river_photo.added",
                target=photo,
                data={
                    "role": role,
                    "patrol": getattr(patrol, "pk", None),
                    "issue": getattr(issue, "pk", None),
                    "has_gps": bool(image.gps),
                },
            )
    except BaseException:
        delete_files(names)
        raise
    return photo


def patrol_photo_add(*, patrol: Patrol, actor: Any, data: bytes) -> RiverPhoto:
    if patrol.photos.count() >= conf.photo_max_count() * 2:
        raise TooManyPhotos(limit=conf.photo_max_count() * 2)
    return _photo_store(data, role=RiverPhoto.Role.PATROL, actor=actor, patrol=patrol)


def river_issue_photo_add(*, issue: RiverIssue, actor: Any, data: bytes) -> RiverPhoto:
    """The reporter adds report photos while the issue awaits acceptance; the assignee adds
    resolution photos while it is assigned."""
    if issue.assignee_id == actor.pk and issue.status == RiverIssue.Status.ASSIGNED:
        role = RiverPhoto.Role.RESOLUTION
    elif issue.reporter_id == actor.pk and issue.status in (
        RiverIssue.Status.REPORTED,
        RiverIssue.Status.ACCEPTED,
    ):
        role = RiverPhoto.Role.REPORT
    else:
        raise InvalidTransition()
    if issue.photos.filter(role=role).count() >= conf.photo_max_count():
        raise TooManyPhotos(limit=conf.photo_max_count())
    return _photo_store(data, role=role, actor=actor, issue=issue)
