"""QR codes for signed-token URLs, decoded with a real reader (zxing-cpp)."""

from __future__ import annotations

import base64
import io
import os
import xml.etree.ElementTree as ET

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from media.qr import qr_for_url, qr_png, qr_svg
from tests.support.qr import read_qr

PREFIX = "https://linli.example.cn/v/"


def _token(n_bytes: int) -> str:
    return base64.b32encode(os.urandom(n_bytes)).decode().rstrip("=")


def test_png_decodes_to_the_exact_url() -> None:
    token = _token(50)
    qr = qr_for_url(PREFIX, token)

    assert read_qr(qr_png(qr)) == [PREFIX + token]


def test_eighty_character_token_fits_version_ten_at_ecc_m() -> None:
    token = _token(50)
    assert len(token) == 80

    qr = qr_for_url(PREFIX, token)

    assert qr.version <= 10
    assert qr.error == "M"


def test_alphanumeric_token_segment_is_smaller_than_all_byte_mode() -> None:
    token = _token(50)
    all_byte = segno.make(PREFIX + token, error="m", mode="byte", boost_error=False)

    mixed = qr_for_url(PREFIX, token)

    assert mixed.version < all_byte.version


def test_signed_token_of_eighty_bytes_still_fits_version_ten() -> None:
    token = _token(80)  # 128 base32 characters: version + key id + id + Ed25519 signature

    qr = qr_for_url(PREFIX, token)

    assert qr.version <= 10
    assert read_qr(qr_png(qr)) == [PREFIX + token]


def test_version_above_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        qr_for_url(PREFIX, _token(80), max_version=5)


def test_data_beyond_any_version_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_for_url(PREFIX, "A" * 5000, max_version=40)


@pytest.mark.parametrize("token", ["abcdefgh", "ABC_DEF", "ABC=", ""])
def test_token_outside_the_alphanumeric_set_is_refused(token: str) -> None:
    with pytest.raises(ValueError):
        qr_for_url(PREFIX, token)


def test_unknown_error_level_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_for_url(PREFIX, _token(10), error="x")


def test_png_has_a_four_module_quiet_zone() -> None:
    qr = qr_for_url(PREFIX, _token(20))

    im = Image.open(io.BytesIO(qr_png(qr, scale=8, border=4))).convert("L")

    side = (qr.symbol_size(scale=1, border=0)[0] + 8) * 8
    assert im.size == (side, side)
    assert im.crop((0, 0, side, 32)).getextrema() == (255, 255)  # four modules of white on top
    assert im.crop((0, 0, 32, side)).getextrema() == (255, 255)
    assert im.getpixel((32, 32)) == 0  # the finder pattern starts right after


def test_svg_is_a_standalone_document_with_quiet_zone() -> None:
    qr = qr_for_url(PREFIX, _token(20))

    svg = qr_svg(qr, scale=4, border=4)

    root = ET.fromstring(svg)
    modules = qr.symbol_size(scale=1, border=0)[0]
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(root.get("width")) == (modules + 8) * 4


@settings(max_examples=25, deadline=None)
@given(n_bytes=st.integers(1, 80), prefix=st.sampled_from([PREFIX, "https://linli.example.cn/p/", ""]))
def test_any_base32_token_round_trips(n_bytes: int, prefix: str) -> None:
    token = _token(n_bytes)

    qr = qr_for_url(prefix, token)

    assert read_qr(qr_png(qr, scale=4)) == [prefix + token]
