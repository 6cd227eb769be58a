"""QR codes and printable badges for credentials (pure rendering over ``media``)."""

from __future__ import annotations

import segno
from django.core.files.storage import default_storage

from backend.core.masking import mask_name
from backend.credentials import conf
from backend.credentials.models import Credential
from media import qr_for_url, qr_png, qr_svg, render_badge


def credential_url(credential: Credential) -> str:
    return conf.verify_url_prefix() + credential.token


def credential_qr(credential: Credential) -> segno.QRCode:
    """``https://<host>/v/`` in a byte segment, the token in an alphanumeric one; ECC M, version ≤ 10."""
    return qr_for_url(conf.verify_url_prefix(), credential.token, error="m", max_version=10)


def credential_qr_png(credential: Credential, *, scale: int = 8) -> bytes:
    return qr_png(credential_qr(credential), scale=scale, border=4)


def credential_qr_svg(credential: Credential) -> bytes:
    return qr_svg(credential_qr(credential), border=4)


def credential_badge_png(credential: Credential) -> bytes:
    practitioner = credential.practitioner
    photo = None
    if practitioner.photo:
        with default_storage.open(practitioner.photo, "rb") as fh:
            photo = fh.read()
    return render_badge(
        photo=photo,
        masked_name=mask_name(practitioner.name),
        association=credential.association.name,
        title=credential.qualification,
        qr_png=credential_qr_png(credential, scale=4),
        footer=f"证书编号 {credential.certificate_no}  有效期至 {credential.valid_until:%Y-%m-%d}",
        font_path=conf.badge_font(),
    )
