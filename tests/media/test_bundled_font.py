"""The CJK font Linli ships: found on a machine without any font, and it draws Chinese."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from media import badge
from media.badge import find_cjk_font, render_badge
from media.qr import qr_for_url, qr_png

BUNDLED = Path(badge.__file__).with_name("fonts") / "NotoSansSC-Regular-GB2312.ttf"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
# The name line of the badge (see render_badge's layout): photo bottom + 58 px, +-40 px.
NAME_BAND = (36, 112 + 28 + 304 + 58 - 40, 638 - 36, 112 + 28 + 304 + 58 + 40)


@pytest.fixture
def fresh_machine(monkeypatch):
    """No system font anywhere: only what the repository ships."""
    monkeypatch.setattr(badge, "_FONT_CANDIDATES", ())
    monkeypatch.setattr(badge, "_FONT_DIRS", ())
    badge._discover_font.cache_clear()
    yield
    badge._discover_font.cache_clear()


def _name_band(name: str, font_path: str | None = None) -> Image.Image:
    png = render_badge(
        photo=None,
        masked_name=name,
        association="深圳市燃气行业协会",
        title="燃气管道安装工",
        qr_png=qr_png(qr_for_url("https://linli.example.cn/v/", "ABCDEFGH234567")),
        font_path=font_path,
    )
    return Image.open(io.BytesIO(png)).convert("L").crop(NAME_BAND)


def test_the_font_and_its_licence_ship_with_the_code(fresh_machine):
    assert find_cjk_font() == str(BUNDLED)
    licence = (BUNDLED.parent / "LICENSE").read_text()
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Adobe" in licence
    assert BUNDLED.stat().st_size < 6_000_000


def test_badge_draws_each_chinese_character_as_its_own_glyph(fresh_machine):
    zhang, li = _name_band("张*三"), _name_band("李*四")

    assert ImageChops.difference(zhang, li).getbbox() is not None  # the names differ on the card
    assert zhang.getextrema()[0] < 64  # and ink was laid down (not blank)


@pytest.mark.skipif(not Path(LATIN_FONT).is_file(), reason="DejaVu Sans is not installed")
def test_the_glyph_check_fails_for_a_font_without_chinese(fresh_machine):
    # A Latin-only font draws the same empty box for every hanzi: the check above would fail.
    assert (
        ImageChops.difference(_name_band("张三", LATIN_FONT), _name_band("李四", LATIN_FONT)).getbbox()
        is None
    )


def test_every_gb2312_hanzi_and_the_division_names_have_glyphs():
    from fontTools.ttLib import TTFont

    cmap = TTFont(BUNDLED, lazy=True).getBestCmap()
    hanzi = {
        bytes((hi, lo)).decode("gb2312", "ignore") for hi in range(0xB0, 0xF8) for lo in range(0xA1, 0xFF)
    } - {""}
    assert len(hanzi) == 6763
    assert not [c for c in hanzi if ord(c) not in cmap]
    assert all(ord(c) in cmap for c in "埇桥区（）：·—")
