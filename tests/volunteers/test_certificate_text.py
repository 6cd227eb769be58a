"""The certificate on a machine without any CJK font: Chinese text, not question marks."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from media import badge
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


@pytest.fixture
def fresh_machine(monkeypatch):
    monkeypatch.setattr(badge, "_FONT_CANDIDATES", ())
    monkeypatch.setattr(badge, "_FONT_DIRS", ())
    badge._discover_font.cache_clear()
    yield
    badge._discover_font.cache_clear()


def test_certificate_text_is_chinese_with_the_shipped_font(api, org, vol, fresh_machine):
    f.record(vol, org, f.at(DAY, 9), f.at(DAY, 12), "t1", "checkin", content="引导服务")

    response = api.as_user(vol).get("/me/certificate")

    assert response.status_code == 200 and response["X-Certificate-Font"] != "latin-fallback"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in ("志愿服务证明", "张*三", "居民身份证", "服务时数", "引导服务", org.name, "免费出具"):
        assert expected in text, (expected, text)
    assert "?" not in text  # the Latin fallback turns every hanzi into "?"
