"""Documents of a filing: photos or PDFs, checked and cleaned by the media pipeline, then stored.
Removing one supersedes it: the row and the file stay on record."""

from __future__ import annotations

import contextlib
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

import media
from backend.accounts.models import User
from backend.core.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings import conf
from backend.filings.errors import MEDIA_ERRORS
from backend.filings.models import AttachmentKind, Filing, FilingAttachment
from backend.filings.services._common import EDITABLE, bump, record


def _check_attachable(*, filing: Filing, kind: str) -> None:
    if kind not in AttachmentKind.values:
        raise ValidationFailed(
            errors=[field_error("kind", "invalid_choice", T("不是允许的材料类型。", "Unknown kind."))]
        )
    if filing.status not in EDITABLE:
        raise InvalidTransition(action="attach", status=filing.status)


def _cleaned(content: bytes) -> media.ProcessedImage | media.ProcessedFile:
    """The upload as stored: real type from the bytes, size and pixels bounded, EXIF stripped."""
    try:
        return media.process_upload(
            content,
            allow_pdf=True,
            max_bytes=conf.attachment_max_bytes(),
            max_pixels=conf.attachment_max_pixels(),
        )
    except media.MediaError as exc:
        error_cls = MEDIA_ERRORS.get(exc.code, MEDIA_ERRORS["corrupt_file"])
        raise error_cls(**exc.details) from exc


def _store(processed: media.ProcessedImage | media.ProcessedFile, *, stem: str, into: list[str]) -> None:
    """Save the file and its thumbnail, naming each in ``into`` as soon as it is written."""
    into.append(default_storage.save(f"{stem}.{processed.ext}", ContentFile(processed.content)))
    if processed.thumbnail:
        into.append(default_storage.save(f"{stem}_thumb.{processed.ext}", ContentFile(processed.thumbnail)))


def _discard(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)


def filing_attachment_add(
    *, filing: Filing, actor: User, kind: str, content: bytes, filename: str = ""
) -> FilingAttachment:
    """Check and clean an upload through the media pipeline, store it, attach it."""
    _check_attachable(filing=filing, kind=kind)
    processed = _cleaned(content)
    stored: list[str] = []
    try:
        _store(processed, stem=f"filings/{filing.pk}/{secrets.token_hex(16)}", into=stored)
        with transaction.atomic():
            bump(filing=filing, allowed=EDITABLE, action="attach")
            attachment = FilingAttachment.objects.create(
                filing=filing,
                kind=kind,
                file=stored[0],
                thumbnail=stored[1] if len(stored) > 1 else "",
                content_type=processed.content_type,
                size=len(processed.content),
                sha256=processed.sha256,
                width=getattr(processed, "width", None),
                height=getattr(processed, "height", None),
                original_name=(filename or "")[:200],
                uploaded_by=actor,
            )
            record(
                filing=filing,
                actor=actor,
                action="attachment_added",
                note=kind,
                data={"attachment": attachment.pk, "kind": kind, "sha256": processed.sha256},
            )
    except BaseException:
        # No row names these files: a filing that moved on meanwhile keeps no stray uploads.
        _discard(stored)
        raise
    return attachment


def filing_attachment_remove(*, filing: Filing, actor: User, attachment_id: int) -> None:
    with transaction.atomic():
        bump(filing=filing, allowed=EDITABLE, action="detach")
        removed = FilingAttachment.objects.filter(
            pk=attachment_id, filing=filing, superseded_at__isnull=True
        ).update(superseded_at=timezone.now())
        if not removed:
            raise NotFound()
        record(filing=filing, actor=actor, action="attachment_removed", data={"attachment": attachment_id})
