"""Upload pipeline for photos and scanned documents.

Every upload (filing attachments, practitioner photos, river-issue photos) goes through
:func:`process_upload`. The client's file name and content type are ignored: the type is
sniffed from the bytes, sizes are bounded before anything is decoded, and images are decoded
and re-encoded so that nothing of the original file (EXIF, GPS, ICC profiles, text chunks,
trailing data, polyglot payloads) reaches storage.

Output format: an image whose alpha channel is actually used is stored as PNG (RGBA); every
other image, including PNG screenshots and GIFs without transparency, is stored as JPEG (RGB,
sRGB). Thumbnails follow the format of the stored image.

All functions are pure: limits come in as keyword arguments, nothing reads Django settings.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageCms, ImageOps

__all__ = [
    "CORRUPT_FILE",
    "CORRUPT_IMAGE",
    "FILE_TOO_LARGE",
    "IMAGE_TOO_LARGE",
    "IMAGE_TYPES",
    "UNSUPPORTED_MEDIA_TYPE",
    "MediaError",
    "ProcessedFile",
    "ProcessedImage",
    "process_image",
    "process_pdf",
    "process_upload",
    "sniff",
]

UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
FILE_TOO_LARGE = "file_too_large"
IMAGE_TOO_LARGE = "image_too_large"
CORRUPT_IMAGE = "corrupt_image"
CORRUPT_FILE = "corrupt_file"

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 4096
DEFAULT_THUMB_SIDE = 320

#: Sniffed types that :func:`process_image` decodes. HEIC is recognised but refused: Pillow
#: cannot decode it without a plugin, and the mini-program converts to JPEG anyway.
IMAGE_TYPES = frozenset({"jpeg", "png", "webp", "gif"})

_JPEG_QUALITY = 85
_THUMB_QUALITY = 80
_GPS_IFD = 0x8825
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_PDF_EOF_WINDOW = 1024


class MediaError(Exception):
    """A refused upload. ``code`` is stable API; ``limit`` is the bound that was exceeded."""

    def __init__(self, code: str, message: str, *, limit: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.limit = limit
        self.details: dict[str, Any] = {**details, **({"limit": limit} if limit is not None else {})}

    def __repr__(self) -> str:
        return f"MediaError({self.code!r}, {self.message!r}, details={self.details!r})"


@dataclass(frozen=True)
class ProcessedFile:
    """A checked non-image upload (PDF), stored as received."""

    content: bytes
    content_type: str
    ext: str
    sha256: str
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class ProcessedImage:
    """A re-encoded image without metadata, plus its thumbnail.

    ``gps`` is ``{"lat": float, "lon": float}`` read from the original EXIF, filled only when the
    caller asked for it (``keep_gps=True``); it is never part of ``content``.
    """

    content: bytes
    content_type: str
    ext: str
    width: int
    height: int
    thumbnail: bytes
    thumb_width: int
    thumb_height: int
    sha256: str
    gps: dict[str, float] | None = None


def sniff(data: bytes) -> str | None:
    """Return the real type of ``data`` from its magic bytes, or ``None`` when unknown.

    Known types: ``jpeg``, ``png``, ``webp``, ``gif``, ``heic``, ``pdf``.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def process_upload(
    data: bytes,
    *,
    allow_pdf: bool,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    thumb_side: int = DEFAULT_THUMB_SIDE,
    keep_gps: bool = False,
) -> ProcessedImage | ProcessedFile:
    """Check and clean one upload, dispatching on the sniffed type."""
    _check_bytes(data, max_bytes=max_bytes)
    kind = sniff(data)
    if kind == "pdf":
        if not allow_pdf:
            raise _unsupported(kind)
        return process_pdf(data, max_bytes=max_bytes)
    return process_image(
        data,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        max_side=max_side,
        thumb_side=thumb_side,
        keep_gps=keep_gps,
    )


def process_pdf(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ProcessedFile:
    """Accept a PDF after a rough structural check (header and ``%%EOF`` trailer); no rendering."""
    _check_bytes(data, max_bytes=max_bytes)
    kind = sniff(data)
    if kind != "pdf":
        raise _unsupported(kind)
    # "%PDF-1.7" or "%PDF-2.0": a version number right after the dash.
    if not (len(data) >= 8 and data[5:6].isdigit() and data[6:7] == b"." and data[7:8].isdigit()):
        raise MediaError(CORRUPT_FILE, "The PDF header is malformed.", detected="pdf")
    if b"%%EOF" not in data[-_PDF_EOF_WINDOW:]:
        raise MediaError(CORRUPT_FILE, "The PDF is truncated (no %%EOF trailer).", detected="pdf")
    return ProcessedFile(
        content=data,
        content_type="application/pdf",
        ext="pdf",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def process_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    thumb_side: int = DEFAULT_THUMB_SIDE,
    keep_gps: bool = False,
) -> ProcessedImage:
    """Decode, bound, orient, strip and re-encode an image; make its thumbnail.

    The pixel count is checked from the header before any pixel is decoded, so a decompression
    bomb is refused while it is still a few kilobytes. The stored image is scaled down to fit in
    ``max_side`` x ``max_side``, the thumbnail to fit in ``thumb_side`` x ``thumb_side``.
    """
    _check_bytes(data, max_bytes=max_bytes)
    kind = sniff(data)
    if kind not in IMAGE_TYPES:
        raise _unsupported(kind)

    im = source = _open_bounded(data, max_pixels=max_pixels)
    if kind == "jpeg":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the photo is far larger than we keep.
        im.draft("RGB", (max_side, max_side))
    try:
        im.load()
        exif = _read_exif(im)
        gps = _gps_from_exif(exif) if keep_gps else None
        im = _orient(im)
        im = _to_srgb(im)
        stored, has_alpha = _normalise_mode(im)
        if max(stored.size) > max_side:
            stored.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        thumb = stored.copy()
        thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        fmt = "PNG" if has_alpha else "JPEG"
        content = _encode(stored, fmt, quality=_JPEG_QUALITY)
        thumbnail = _encode(thumb, fmt, quality=_THUMB_QUALITY)
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(im.size, max_pixels) from exc
    except MemoryError as exc:
        raise MediaError(IMAGE_TOO_LARGE, "The image is too large to decode.", limit=max_pixels) from exc
    except Exception as exc:
        # Pillow reports malformed input through many exception types (OSError for truncated
        # data, ValueError, SyntaxError, struct.error, ...): to the uploader they all mean the same.
        raise MediaError(CORRUPT_IMAGE, "The image could not be decoded.", detected=kind) from exc
    finally:
        source.close()

    return ProcessedImage(
        content=content,
        content_type="image/png" if fmt == "PNG" else "image/jpeg",
        ext="png" if fmt == "PNG" else "jpg",
        width=stored.width,
        height=stored.height,
        thumbnail=thumbnail,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        sha256=hashlib.sha256(content).hexdigest(),
        gps=gps,
    )


# -- helpers -----------------------------------------------------------------------------------


def _check_bytes(data: bytes, *, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise MediaError(FILE_TOO_LARGE, "The file is too large.", limit=max_bytes, size=len(data))
    if not data:
        raise MediaError(UNSUPPORTED_MEDIA_TYPE, "The file is empty.", detected=None)


def _unsupported(kind: str | None) -> MediaError:
    return MediaError(UNSUPPORTED_MEDIA_TYPE, "This file type is not accepted.", detected=kind)


def _too_many_pixels(size: tuple[int, int], max_pixels: int) -> MediaError:
    return MediaError(
        IMAGE_TOO_LARGE,
        "The image has too many pixels.",
        limit=max_pixels,
        width=size[0],
        height=size[1],
    )


def _open_bounded(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse before decoding when the pixel count is too high."""
    try:
        im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (Image.MAX_IMAGE_PIXELS) fired while reading the header.
        raise MediaError(IMAGE_TOO_LARGE, "The image has too many pixels.", limit=max_pixels) from exc
    except Exception as exc:
        raise MediaError(CORRUPT_IMAGE, "The image could not be decoded.") from exc
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        im.close()
        raise _too_many_pixels(im.size, max_pixels)
    return im


def _read_exif(im: Image.Image) -> Image.Exif | None:
    try:
        return im.getexif()
    except Exception:
        return None  # broken EXIF does not make a photo unusable; it is discarded anyway


def _orient(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        return im


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert colours from an embedded ICC profile to sRGB, since the profile is dropped."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, source, target, outputMode=out_mode)
    except Exception:
        return im  # an unusable profile: fall back to a plain mode conversion later
    return converted if converted is not None else im


def _normalise_mode(im: Image.Image) -> tuple[Image.Image, bool]:
    """Return an RGB or RGBA copy and whether its alpha channel is actually used."""
    if im.mode.startswith("I;16"):
        im = im.convert("I")
    if im.mode in ("I", "F"):
        # High bit-depth greyscale: stretch to 8 bits instead of clipping at 255.
        low, high = _band_extrema(im)
        scale = 255 / (high - low) if high > low else 0
        im = im.point(lambda v: (v - low) * scale).convert("L")
    has_transparency = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_transparency:
        rgba = im.convert("RGBA")
        alpha_min, _ = _band_extrema(rgba.getchannel("A"))
        if alpha_min < 255:
            rgba.info = {}
            return rgba, True
        im = rgba
    rgb = im.convert("RGB")
    rgb.info = {}
    return rgb, False


def _band_extrema(im: Image.Image) -> tuple[float, float]:
    """(min, max) of a single-band image."""
    low, high = im.getextrema()
    assert isinstance(low, int | float) and isinstance(high, int | float)
    return low, high


def _encode(im: Image.Image, fmt: str, *, quality: int) -> bytes:
    # info is cleared so that no metadata (EXIF, ICC, text, transparency keys) rides along.
    im.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    else:
        im.save(out, "PNG", optimize=True)
    return out.getvalue()


def _gps_from_exif(exif: Image.Exif | None) -> dict[str, float] | None:
    """Latitude and longitude in decimal degrees from the EXIF GPS IFD, or ``None``."""
    if exif is None:
        return None
    try:
        gps = exif.get_ifd(_GPS_IFD)
        lat = _dms_to_degrees(gps.get(2), gps.get(1), positive=b"N", negative=b"S")
        lon = _dms_to_degrees(gps.get(4), gps.get(3), positive=b"E", negative=b"W")
    except Exception:
        return None
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return {"lat": round(lat, 7), "lon": round(lon, 7)}


def _dms_to_degrees(dms: Any, ref: Any, *, positive: bytes, negative: bytes) -> float | None:
    if not dms or len(dms) != 3:
        return None
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value):
        return None
    ref_bytes = ref.encode() if isinstance(ref, str) else bytes(ref or b"")
    ref_bytes = ref_bytes.strip(b"\x00 ").upper()
    if ref_bytes == negative:
        return -value
    if ref_bytes in (positive, b""):
        return value
    return None
