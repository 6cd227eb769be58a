"""Signed URLs for private files: bound to the name and the expiry, refused after either."""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from backend.core import signed_urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored():
    return default_storage.save("private/a.jpg", ContentFile(b"\xff\xd8\xff\xe0 not really a jpeg"))


def test_a_signed_path_serves_the_file_privately_until_it_expires(stored):
    response = Client().get(signed_urls.signed_path(stored, ttl=60))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert response["Cache-Control"].startswith("private, max-age=")
    assert int(response["Cache-Control"].rsplit("=", 1)[1]) <= 60


def test_an_expired_url_is_refused_with_its_own_code(stored):
    path = signed_urls.signed_path(stored, ttl=10, now=time.time() - 60)
    response = Client().get(path)
    assert response.status_code == 403 and response.json()["code"] == "url_expired"


def test_an_altered_name_or_expiry_is_refused(stored):
    path = signed_urls.signed_path(stored, ttl=60)
    _, _, expires, signature, name = path.split("/", 4)
    other = default_storage.save("private/b.jpg", ContentFile(b"other"))
    for forged in (
        f"/m/{expires}/{signature}/{other}",
        f"/m/{int(expires) + 3600}/{signature}/{name}",
        f"/m/{expires}/{'A' * len(signature)}/{name}",
    ):
        response = Client().get(forged)
        assert response.status_code == 403 and response.json()["code"] == "url_invalid", forged


def test_a_signed_url_of_a_missing_file_is_404():
    response = Client().get(signed_urls.signed_path("private/gone.jpg", ttl=60))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_signed_urls_are_absolute_under_the_public_host(settings, stored):
    settings.LINLI_PUBLIC_HOST = "linli.example.cn"
    settings.LINLI_PUBLIC_SCHEME = "https"
    assert signed_urls.signed_url(stored).startswith("https://linli.example.cn/m/")


def test_uploads_have_no_public_url(stored):
    response = Client().get(f"/media/{stored}")
    assert response.status_code == 404


def test_behind_nginx_django_checks_and_nginx_sends_the_file(settings, stored):
    settings.LINLI_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    response = Client().get(signed_urls.signed_path(stored, ttl=60))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{stored}"
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private, max-age=")
    # A refused URL reaches no file, behind nginx or not.
    refused = Client().get(signed_urls.signed_path(stored, ttl=10, now=time.time() - 60))
    assert refused.status_code == 403 and "X-Accel-Redirect" not in refused


def test_generated_names_hide_their_state_and_change_with_it():
    name = signed_urls.generated_name("pass-qr", 12, "SECRET-A")
    assert name.startswith("generated/pass-qr/12/") and "SECRET" not in name
    assert signed_urls.generated_name("pass-qr", 12, "SECRET-A") == name
    assert signed_urls.generated_name("pass-qr", 12, "SECRET-B") != name
    assert signed_urls.generated_object_id(name, "pass-qr") == 12
    assert signed_urls.generated_object_id(name, "badge") is None
    assert signed_urls.generated_object_id("generated/pass-qr/12/../../x.png", "pass-qr") is None


def test_a_generated_image_is_drawn_once_on_its_first_fetch():
    name = signed_urls.generated_name("test-drawing", 7, "v1")
    drawn = []

    def draw(requested: str) -> bytes | None:
        if signed_urls.generated_object_id(requested, "test-drawing") != 7:
            return None
        drawn.append(requested)
        return b"\x89PNG drawn"

    signed_urls.media_render.register(draw)
    try:
        for _ in range(2):
            response = Client().get(signed_urls.signed_path(name, ttl=60))
            assert response.status_code == 200
            assert b"".join(response.streaming_content) == b"\x89PNG drawn"
        other = signed_urls.generated_name("test-drawing", 8, "v1")
        assert Client().get(signed_urls.signed_path(other, ttl=60)).status_code == 404
    finally:
        signed_urls.media_render.unregister(draw)
    assert drawn == [name] and default_storage.exists(name)
