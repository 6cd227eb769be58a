"""Documents of a filing: upload (cleaned by the media pipeline), remove, download."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from api.auth import bearer
from api.filings.schemas import AttachmentKindName, FilingAttachmentOut
from api.schemas import ERRORS, OkOut, errors
from backend.filings import conf, services
from backend.filings.permissions import Action, filing_access, filing_attachment_access

router = Router()


@router.post(
    "/filings/{filing_id}/attachments",
    response={201: FilingAttachmentOut, **errors(413, 415)},
)
def attachment_add(request, filing_id: int, kind: Form[AttachmentKindName], file: File[UploadedFile]):
    """Upload a photo (JPEG/PNG/WebP/GIF) or PDF of a document: the type is read from the bytes,
    size and pixels are bounded, EXIF (GPS) is stripped and a thumbnail made."""
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    content = file.read(conf.attachment_max_bytes() + 1)
    attachment = services.filing_attachment_add(
        filing=filing, actor=request.auth, kind=kind, content=content, filename=file.name or ""
    )
    return Status(201, attachment)


@router.delete(
    "/filings/{filing_id}/attachments/{attachment_id}",
    response={200: OkOut, **ERRORS},
)
def attachment_remove(request, filing_id: int, attachment_id: int):
    filing = filing_access(user=request.auth, filing_id=filing_id, action=Action.FILING_EDIT)
    services.filing_attachment_remove(filing=filing, actor=request.auth, attachment_id=attachment_id)
    return {"ok": True}


@router.get(
    "/filings/{filing_id}/attachments/{attachment_id}/file",
    auth=bearer,
    response={200: None, **ERRORS},
)
def attachment_file(request, filing_id: int, attachment_id: int, thumbnail: bool = False):
    """The stored (cleaned) file, for the representative and the reviewers only."""
    attachment = filing_attachment_access(user=request.auth, filing_id=filing_id, attachment_id=attachment_id)
    path = attachment.thumbnail if thumbnail and attachment.thumbnail else attachment.file
    response = FileResponse(default_storage.open(path, "rb"), content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
