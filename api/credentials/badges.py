"""A credential's badge for printing: the QR (PNG or SVG) and the ID-1 card. Private images:
``Cache-Control: private, no-store``."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router

from api.auth import AuthedRequest
from api.schemas import ERRORS
from backend.credentials import badges
from backend.credentials.permissions import credential_access

router = Router()


def _image(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/credentials/{credential_id}/qr.png", response={200: None, **ERRORS})
def credential_qr_png(
    request: AuthedRequest, credential_id: int, scale: int = Query(8, ge=2, le=20)
) -> HttpResponse:
    """The badge QR: ``https://<host>/v/<TOKEN>``, ECC M, version ≤ 10, 4-module quiet zone."""
    credential = credential_access(user=request.auth, credential_id=credential_id)
    return _image(
        badges.credential_qr_png(credential, scale=scale), "image/png", f"{credential.certificate_no}.png"
    )


@router.get("/credentials/{credential_id}/qr.svg", response={200: None, **ERRORS})
def credential_qr_svg(request: AuthedRequest, credential_id: int) -> HttpResponse:
    credential = credential_access(user=request.auth, credential_id=credential_id)
    return _image(badges.credential_qr_svg(credential), "image/svg+xml", f"{credential.certificate_no}.svg")


@router.get("/credentials/{credential_id}/badge.png", response={200: None, **ERRORS})
def credential_badge(request: AuthedRequest, credential_id: int) -> HttpResponse:
    """A printable badge (ID-1 card at 300 dpi): photo, masked name, association, qualification, QR."""
    credential = credential_access(user=request.auth, credential_id=credential_id)
    return _image(
        badges.credential_badge_png(credential), "image/png", f"badge-{credential.certificate_no}.png"
    )
