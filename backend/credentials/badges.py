"""QR codes and printable badges for credentials (pure rendering over ``media``), and the signed
URLs a client loads them by: drawn on the first fetch and cached under names that change with
what the picture shows (``backend.core.signed_urls.generated_name``)."""

from __future__ import annotations

import segno
from django.core.files.storage import default_storage

from backend.core.masking import mask_name
from backend.core.signed_urls import generated_name, generated_object_id, signed_url
from backend.credentials import conf, selectors
from backend.credentials.models import Credential
from media import qr_for_url, qr_png, qr_svg, render_badge

BADGE = "badge"
BADGE_QR = "badge-qr"


def credential_url(credential: Credential) -> str:
    return conf.verify_url_prefix() + credential.token


def credential_qr(credential: Credential) -> segno.QRCode:
    """``https://<host>/v/`` in a byte segment, the token in an alphanumeric one; ECC M, version ≤ 10."""
    return qr_for_url(conf.verify_url_prefix(), credential.token, error="m", max_version=10)


def credential_qr_png(credential: Credential, *, scale: int = 8) -> bytes:
    return qr_png(credential_qr(credential), scale=scale, border=4)


def credential_qr_svg(credential: Credential) -> bytes:
    return qr_svg(credential_qr(credential), border=4)


def _photo_shown(credential: Credential) -> bool:
    """A photo WeChat's image check found risky is left off the badge (``photo_hidden`` is
    annotated by the credential selectors)."""
    return bool(credential.practitioner.photo) and not getattr(credential, "photo_hidden", False)


def credential_badge_png(credential: Credential) -> bytes:
    practitioner = credential.practitioner
    photo = None
    if _photo_shown(credential):
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


# --- signed URLs of the generated images ------------------------------------------------------


def _badge_name(credential: Credential) -> str:
    practitioner = credential.practitioner
    return generated_name(
        BADGE,
        credential.pk,
        credential.token,
        practitioner.name,
        practitioner.photo if _photo_shown(credential) else "",
        credential.association.name,
        credential.qualification,
        credential.certificate_no,
        credential.valid_until,
    )


def _qr_name(credential: Credential) -> str:
    return generated_name(BADGE_QR, credential.pk, credential.token)


def credential_badge_url(credential: Credential) -> str:
    """The printable badge as a short-lived signed URL (drawn on its first fetch)."""
    return signed_url(_badge_name(credential))


def credential_qr_url(credential: Credential) -> str:
    """The badge QR (PNG) as a short-lived signed URL (drawn on its first fetch)."""
    return signed_url(_qr_name(credential))


def generated_image(name: str) -> bytes | None:
    """``media_render``: draw the badge or QR a signed URL names, if the credential still shows
    what the name was made from (a re-issued token or a changed name makes an older URL 404)."""
    for kind, named, draw in (
        (BADGE, _badge_name, credential_badge_png),
        (BADGE_QR, _qr_name, credential_qr_png),
    ):
        credential_id = generated_object_id(name, kind)
        if credential_id is None:
            continue
        credential = selectors.credential_get(credential_id=credential_id)
        if credential is None or named(credential) != name:
            return None
        return draw(credential)
    return None
