"""The badge QR, decoded with a real decoder (zxing-cpp), leads to the live lookup."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.credentials import factories as f
from tests.helpers import ApiClient
from tests.support.qr import read_qr_symbols

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(api, settings):
    settings.LINLI_PUBLIC_HOST = "linli.shenzhen.example.cn"
    settings.LINLI_PUBLIC_SCHEME = "https"
    assoc = f.association("深圳市燃气行业协会")
    credential = f.credential(f.practitioner(assoc))
    return api.as_user(f.association_admin(assoc)), credential


def _decode(png: bytes):
    (result,) = read_qr_symbols(png)
    return result


def test_qr_png_decodes_to_the_verify_url_and_the_url_leads_to_the_live_status(setup):
    admin, credential = setup
    response = admin.get(f"/credentials/{credential.pk}/qr.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    result = _decode(response.content)
    assert result.text == f"https://linli.shenzhen.example.cn/v/{credential.token}"
    assert result.ec_level == "M"
    modules = Image.open(io.BytesIO(response.content)).width // 8 - 2 * 4  # scale 8, quiet zone 4
    assert (modules - 17) % 4 == 0 and (modules - 17) // 4 <= 10  # QR version ≤ 10
    # Follow the URL (the host is ours; the path is what the phone opens).
    page = ApiClient().client.get(urlsplit(result.text).path)
    assert page.status_code == 200 and "有效" in page.content.decode()


def test_qr_has_a_four_module_quiet_zone(setup):
    admin, credential = setup
    png = admin.get(f"/credentials/{credential.pk}/qr.png?scale=5").content
    image = Image.open(io.BytesIO(png)).convert("L")
    left, top, right, bottom = Image.eval(image, lambda v: 255 - v).getbbox()
    assert left == top == 4 * 5
    assert image.width - right == image.height - bottom == 4 * 5


def test_token_sits_in_an_alphanumeric_segment(setup):
    from backend.credentials.badges import credential_qr

    _, credential = setup
    import segno

    qr = credential_qr(credential)
    assert qr.error == "M" and qr.version <= 10
    # All in byte mode the same URL needs a larger symbol: the token went in alphanumeric mode.
    url = f"https://linli.shenzhen.example.cn/v/{credential.token}"
    assert segno.make(url, error="m", mode="byte", boost_error=False, micro=False).version > qr.version


def test_qr_svg_is_an_svg_of_the_same_code(setup):
    admin, credential = setup
    response = admin.get(f"/credentials/{credential.pk}/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<?xml") and b"<svg" in response.content


def test_printable_badge_carries_a_scannable_qr_and_no_full_name(setup):
    admin, credential = setup
    response = admin.get(f"/credentials/{credential.pk}/badge.png")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (638, 1011)
    assert _decode(response.content).text.endswith("/v/" + credential.token)
