"""A pass's QR code as an image: drawn for the holder's app, and behind a short-lived signed URL
for the mini-program's ``<image>`` (drawn on its first fetch, cached under a name derived from
the pass's secret, so a re-issued pass gets a new name and its old URL stops working)."""

from __future__ import annotations

from backend.checkin.models import Pass
from backend.core.signed_urls import generated_name, generated_object_id, signed_url
from media import qr_for_url, qr_png, qr_svg

PASS_QR = "pass-qr"


def pass_qr_png(pass_obj: Pass) -> bytes:
    return qr_png(qr_for_url("", pass_obj.secret.upper()))


def pass_qr_svg(pass_obj: Pass) -> bytes:
    return qr_svg(qr_for_url("", pass_obj.secret.upper()))


def _name(pass_obj: Pass) -> str:
    return generated_name(PASS_QR, pass_obj.pk, pass_obj.secret)


def pass_qr_url(pass_obj: Pass) -> str:
    """The pass's QR (PNG) as a short-lived signed URL."""
    return signed_url(_name(pass_obj))


def generated_image(name: str) -> bytes | None:
    """``media_render``: the QR of the pass a signed URL names, while its secret is the same."""
    pass_id = generated_object_id(name, PASS_QR)
    if pass_id is None:
        return None
    pass_obj = Pass.objects.filter(pk=pass_id).first()
    if pass_obj is None or _name(pass_obj) != name:
        return None
    return pass_qr_png(pass_obj)
