"""Media handling: the upload pipeline, QR codes and printable badges.

Pure functions without Django models or settings; callers pass the limits.
"""

from media.badge import find_cjk_font, render_badge
from media.images import (
    MediaError,
    ProcessedFile,
    ProcessedImage,
    process_image,
    process_pdf,
    process_upload,
    sniff,
)
from media.qr import qr_for_url, qr_png, qr_svg

__all__ = [
    "MediaError",
    "ProcessedFile",
    "ProcessedImage",
    "find_cjk_font",
    "process_image",
    "process_pdf",
    "process_upload",
    "qr_for_url",
    "qr_png",
    "qr_svg",
    "render_badge",
    "sniff",
]
