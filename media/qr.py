"""QR codes for signed tokens (practitioner badges, event passes).

The QR holds ``prefix + token``, e.g. ``https://linli.example.cn/v/`` + an upper-case base32
token. The prefix goes into a byte-mode segment and the token into an alphanumeric segment
(11 bits per 2 characters instead of 16), which keeps a ~80-character token at version <= 10
with error correction M. A phone camera reads both segments as one URL.
"""

from __future__ import annotations

import io

import segno
from segno import consts

__all__ = ["QR_ALPHANUMERIC", "qr_for_url", "qr_png", "qr_svg"]

#: Characters allowed in a QR alphanumeric segment (ISO/IEC 18004, 7.4.4).
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

_ERROR_LEVELS = frozenset("lmqh")


def qr_for_url(prefix: str, token: str, *, error: str = "m", max_version: int = 10) -> segno.QRCode:
    """Build the QR code for ``prefix + token`` with the token in an alphanumeric segment.

    Raises ``ValueError`` when the token has characters outside the alphanumeric set (for
    example lower-case base32) or when the code would need a version above ``max_version``.
    The error level is fixed (``boost_error=False``) so that codes are comparable.
    """
    if error.lower() not in _ERROR_LEVELS:
        raise ValueError(f"Unknown QR error correction level {error!r}.")
    if not token:
        raise ValueError("The token is empty.")
    if not set(token) <= QR_ALPHANUMERIC:
        raise ValueError("The token must use QR alphanumeric characters (upper-case base32).")
    segments: list[tuple[str, int]] = [(token, consts.MODE_ALPHANUMERIC)]
    if prefix:
        segments.insert(0, (prefix, consts.MODE_BYTE))
    try:
        # segno accepts a sequence of (content, mode) segments; its type hints don't say so.
        qr = segno.make(segments, error=error, micro=False, boost_error=False)  # type: ignore[arg-type]
    except segno.DataOverflowError as exc:
        raise ValueError(f"The URL does not fit into a QR code: {exc}") from exc
    version = int(qr.version)  # a plain QR code (micro=False) always has a numeric version
    if version > max_version:
        raise ValueError(f"The QR code needs version {version}, above the limit of {max_version}.")
    return qr


def qr_png(qr: segno.QRCode, *, scale: int = 8, border: int = 4) -> bytes:
    """PNG bytes of ``qr``: black modules of ``scale`` pixels, a ``border``-module quiet zone."""
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(qr: segno.QRCode, *, scale: int = 4, border: int = 4) -> bytes:
    """Standalone SVG bytes of ``qr`` with a ``border``-module quiet zone and a white background."""
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=border, light="#fff", xmldecl=True, encoding="utf-8")
    return out.getvalue()
