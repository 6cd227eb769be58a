"""Printable badges: size, and a QR that a real reader decodes from the printed card."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from media import badge
from media.badge import BADGE_SIZE, find_cjk_font, render_badge
from media.qr import qr_for_url, qr_png
from tests.support.qr import read_qr

PREFIX = "https://linli.example.cn/v/"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _url() -> str:
    return PREFIX + base64.b32encode(os.urandom(80)).decode().rstrip("=")


def _qr(url: str) -> bytes:
    return qr_png(qr_for_url(PREFIX, url.removeprefix(PREFIX)))


def _photo() -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((300, 400)).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def _render(url: str, **overrides) -> Image.Image:
    params = {
        "photo": _photo(),
        "masked_name": "张*三",
        "association": "深圳市燃气行业协会",
        "title": "燃气管道安装工（高级）",
        "qr_png": _qr(url),
        "footer": "扫码核验 · 以扫码结果为准",
    }
    return Image.open(io.BytesIO(render_badge(**(params | overrides))))


def test_badge_is_an_id1_card_at_300_dpi() -> None:
    im = _render(_url())

    assert im.format == "PNG"
    assert im.size == BADGE_SIZE == (638, 1011)
    assert round(im.info["dpi"][0]) == 300


def test_qr_on_the_badge_decodes_to_the_url() -> None:
    url = _url()

    assert read_qr(_render(url)) == [url]


def test_badge_without_photo_draws_a_placeholder() -> None:
    url = _url()

    im = _render(url, photo=None, footer="")

    assert read_qr(im) == [url]
    # The placeholder's grey background fills the photo frame's corner.
    assert im.getpixel((im.width // 2 - 100, 150)) == badge._PLACEHOLDER_BG


# A badge whose QR modules also read as an ITF barcode ("3156") to a reader that tries every format.
_ALSO_READS_AS_ITF = (
    PREFIX
    + "UDOXHETBAGBEHJOMBOU6MWTP5LNGBC5FPJS5TGXUDUNMLICJLBCGFG2L4CB5FBTRCL4F5Z6IRXJFG2GI7MJ4JDYO72FPVSPWXF"
    "5JYYUPSPXMC4ZCUN65RAX24TC5ZOEF"
)


def test_the_qr_reader_reads_the_badges_qr_alone() -> None:
    im = _render(_ALSO_READS_AS_ITF, photo=None, footer="")

    assert read_qr(im) == [_ALSO_READS_AS_ITF]


def test_undecodable_photo_falls_back_to_the_placeholder() -> None:
    im = _render(_url(), photo=b"\xff\xd8\xffbroken")

    assert im.getpixel((im.width // 2 - 100, 150)) == badge._PLACEHOLDER_BG


def test_very_long_texts_still_leave_a_scannable_qr() -> None:
    url = _url()

    im = _render(
        url, association="深圳市" * 30, title="高级" * 60, masked_name="欧阳*娜" * 10, footer="注" * 80
    )

    assert read_qr(im) == [url]


def test_badge_renders_with_pillows_default_font_when_no_cjk_font_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(badge, "_discover_font", lambda: None)
    url = _url()

    im = _render(url)

    assert find_cjk_font() is None
    assert im.size == BADGE_SIZE
    assert read_qr(im) == [url]


def test_unreadable_font_file_falls_back_to_the_default_font(tmp_path: Path) -> None:
    bogus = tmp_path / "broken.ttf"
    bogus.write_bytes(b"not a font")
    url = _url()

    im = _render(url, font_path=str(bogus))

    assert read_qr(im) == [url]


@pytest.mark.skipif(not Path(LATIN_FONT).is_file(), reason="DejaVu Sans is not installed")
def test_explicit_font_path_is_preferred() -> None:
    assert find_cjk_font(LATIN_FONT) == LATIN_FONT


def test_missing_explicit_font_path_falls_back_to_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(badge, "_discover_font", lambda: "/found/by/discovery.ttc")

    assert find_cjk_font("/no/such/font.ttf") == "/found/by/discovery.ttc"


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    im = Image.new("L", (64, 64))
    ImageDraw.Draw(im).text((0, 0), char, font=font, fill=255)
    return im.tobytes()


@pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font on this machine")
def test_discovered_cjk_font_has_chinese_glyphs() -> None:
    font = ImageFont.truetype(find_cjk_font(), 48)

    # Distinct characters draw distinct glyphs; a font without them draws the same box twice.
    assert _glyph(font, "张") != _glyph(font, "邻")


@pytest.mark.skipif(not Path(LATIN_FONT).is_file(), reason="DejaVu Sans is not installed")
def test_glyph_check_tells_a_latin_only_font_apart() -> None:
    font = ImageFont.truetype(LATIN_FONT, 48)

    assert _glyph(font, "张") == _glyph(font, "邻")
