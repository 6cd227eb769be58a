"""Printable practitioner badges (ID-1 card, 54 x 85.6 mm at 300 dpi).

Chinese text needs a CJK font, which neither Pillow nor a fresh machine ships, so Linli ships
one: ``media/fonts/NotoSansSC-Regular-GB2312.ttf``, Noto Sans CJK SC reduced to GB 2312 (SIL
Open Font License, see ``media/fonts/README.md``). The font is found at call time: an explicit
``font_path`` first (the backend passes its setting ``LINLI_BADGE_FONT``, e.g. a full CJK font
for rare characters), then the fonts in ``media/fonts/``, then the usual system locations (Noto
CJK, WenQuanYi, Source Han, Droid Sans Fallback on Linux; PingFang/Heiti on macOS; YaHei/SimHei
on Windows). Without any (the shipped file removed), Pillow's built-in font is used: the badge
still renders and its QR still scans, but Chinese characters show as empty boxes, and
:func:`find_cjk_font` returns ``None`` so a health check can say so.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = ["BADGE_SIZE", "find_cjk_font", "render_badge"]

logger = logging.getLogger(__name__)

#: Width x height in pixels: ISO/IEC 7810 ID-1 (53.98 x 85.6 mm) at 300 dpi, portrait.
BADGE_SIZE = (638, 1011)
DPI = 300

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
_FONT_CANDIDATES = (
    # Debian / Ubuntu (fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei, fonts-droid-fallback)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    # Fedora, Arch, Alpine
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    # macOS, Windows
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
# File-name fragments of CJK fonts, for a last search through the font directories.
_FONT_NAME_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy-", "droidsansfallback", "simhei")

_INK = (20, 24, 31)
_MUTED = (90, 98, 110)
_ACCENT = (178, 34, 34)  # the red of civil-affairs documents
_PAPER = (255, 255, 255)
_PLACEHOLDER_BG = (226, 230, 236)
_PLACEHOLDER_FG = (160, 168, 180)


@functools.cache
def _discover_font() -> str | None:
    bundled = Path(__file__).with_name("fonts")
    if bundled.is_dir():
        for pattern in ("*.ttc", "*.otf", "*.ttf"):
            for path in sorted(bundled.glob(pattern)):
                return str(path)
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    for root in _FONT_DIRS:
        base = Path(root)
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            name = path.name.lower()
            if path.suffix.lower() in (".ttc", ".otf", ".ttf") and any(h in name for h in _FONT_NAME_HINTS):
                return str(path)
    return None


def find_cjk_font(font_path: str | None = None) -> str | None:
    """The CJK font file the badge will use, or ``None`` when only Pillow's default is left."""
    if font_path and Path(font_path).is_file():
        return font_path
    return _discover_font()


def render_badge(
    *,
    photo: bytes | None,
    masked_name: str,
    association: str,
    title: str,
    qr_png: bytes,
    footer: str = "",
    font_path: str | None = None,
) -> bytes:
    """Render a printable badge PNG (638 x 1011 px, 300 dpi) and return its bytes.

    ``photo`` should be a processed image (see :mod:`media.images`); it is cropped to a 3:4
    portrait. ``qr_png`` is a PNG from :func:`media.qr.qr_png`; it is re-scaled by whole pixels
    per module so that it stays sharp, with a 4-module quiet zone.
    """
    width, height = BADGE_SIZE
    fonts = _Fonts(find_cjk_font(font_path))
    card = Image.new("RGB", BADGE_SIZE, _PAPER)
    draw = ImageDraw.Draw(card)
    margin = 36

    # Header band: the association that vouches for the practitioner.
    band = 112
    draw.rectangle((0, 0, width, band), fill=_ACCENT)
    line = width - 2 * margin
    _text_centered(draw, association, fonts, y=band // 2, size=40, min_size=22, width=line, fill=_PAPER)

    # Photo, 3:4 portrait.
    photo_box = (228, 304)
    photo_top = band + 28
    photo_left = (width - photo_box[0]) // 2
    card.paste(_portrait(photo, photo_box), (photo_left, photo_top))
    frame = (photo_left - 1, photo_top - 1, photo_left + photo_box[0], photo_top + photo_box[1])
    draw.rectangle(frame, outline=_PLACEHOLDER_FG)

    # Name and qualification.
    y = photo_top + photo_box[1] + 58
    _text_centered(draw, masked_name, fonts, y=y, size=64, min_size=32, width=line, fill=_INK)
    y += 66
    _text_centered(draw, title, fonts, y=y, size=34, min_size=20, width=line, fill=_MUTED)

    # QR code in the space left above the footer.
    footer_h = 44 if footer else 16
    qr_top = y + 36
    qr_room = min(line, height - footer_h - qr_top)
    qr = _qr_image(qr_png, qr_room)
    card.paste(qr, ((width - qr.width) // 2, qr_top + (qr_room - qr.height) // 2))

    if footer:
        footer_y = height - footer_h // 2 - 6
        _text_centered(draw, footer, fonts, y=footer_y, size=24, min_size=16, width=line, fill=_MUTED)

    out = io.BytesIO()
    card.save(out, "PNG", optimize=True, dpi=(DPI, DPI))
    return out.getvalue()


class _Fonts:
    """Sized fonts from one file, or Pillow's default font when there is none."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._sized: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
        if path is None:
            logger.warning("No CJK font found: Chinese text on badges will not render.")

    def get(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self._sized:
            self._sized[size] = self._load(size)
        return self._sized[size]

    def _load(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if self.path is not None:
            try:
                return ImageFont.truetype(self.path, size)
            except OSError:
                logger.warning("Cannot load font %s; using Pillow's default.", self.path)
                self.path = None
        return ImageFont.load_default(size=size)


def _text_centered(
    draw: ImageDraw.ImageDraw,
    text: str,
    fonts: _Fonts,
    *,
    y: int,
    size: int,
    min_size: int,
    width: int,
    fill: tuple[int, int, int],
) -> None:
    """Draw one line centred on (card centre, y), shrinking and then ellipsising to fit."""
    if not text:
        return
    while size > min_size and draw.textlength(text, font=fonts.get(size)) > width:
        size -= 2
    font = fonts.get(size)
    if draw.textlength(text, font=font) > width:
        while len(text) > 1 and draw.textlength(text + "…", font=font) > width:
            text = text[:-1]
        text += "…"
    draw.text((draw.im.size[0] // 2, y), text, font=font, fill=fill, anchor="mm")


def _portrait(photo: bytes | None, box: tuple[int, int]) -> Image.Image:
    if photo is not None:
        try:
            with Image.open(io.BytesIO(photo)) as im:
                im.load()
                return ImageOps.fit(ImageOps.exif_transpose(im).convert("RGB"), box, centering=(0.5, 0.35))
        except Exception:
            logger.warning("Badge photo could not be decoded; drawing the placeholder.")
    return _silhouette(box)


def _silhouette(box: tuple[int, int]) -> Image.Image:
    w, h = box
    im = Image.new("RGB", box, _PLACEHOLDER_BG)
    draw = ImageDraw.Draw(im)
    head = w * 0.19
    cx, cy = w / 2, h * 0.38
    draw.ellipse((cx - head, cy - head, cx + head, cy + head), fill=_PLACEHOLDER_FG)
    draw.ellipse((cx - w * 0.38, h * 0.62, cx + w * 0.38, h * 1.25), fill=_PLACEHOLDER_FG)
    return im


def _qr_image(png: bytes, room: int) -> Image.Image:
    """The QR at the largest whole number of pixels per module that fits in ``room``."""
    with Image.open(io.BytesIO(png)) as im:
        qr = im.convert("L")
    bbox = ImageOps.invert(qr).getbbox()
    if bbox is None:
        raise ValueError("The QR image is blank.")
    symbol = qr.crop(bbox)
    module = _module_size(symbol)
    if module:
        modules = symbol.width // module
        scale = max(1, room // (modules + 8))  # + 2 x 4-module quiet zone
        symbol = symbol.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
        quiet = 4 * scale
    else:  # not a plain square symbol: scale it as a picture and keep a proportional margin
        side = room * 7 // 8
        symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
        quiet = (room - side) // 2
    return ImageOps.expand(symbol, border=quiet, fill=255).convert("RGB")


def _module_size(symbol: Image.Image) -> int | None:
    """Pixels per module, from the 7-module finder pattern in the symbol's top-left corner."""
    run = 0
    for x in range(symbol.width):
        if symbol.getpixel((x, 0)) >= 128:  # type: ignore[operator]
            break
        run += 1
    if run < 7 or run % 7 or symbol.width != symbol.height or symbol.width % (run // 7):
        return None
    return run // 7
