"""Fetching a private image the way the mini-program's ``<image>`` does: the signed URL from an
API answer, no Authorization header, nothing else."""

from __future__ import annotations

import urllib.parse

from django.test import Client


def fetch(url: str) -> tuple[int, bytes, str]:
    """``(status, body, content type)`` of a signed URL, fetched without any credentials."""
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, f"not an absolute URL: {url}"
    assert parts.path.startswith("/m/"), f"not a signed URL: {url}"
    response = Client().get(parts.path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body, response.get("Content-Type", "")


def fetch_ok(url: str) -> bytes:
    status, body, _ = fetch(url)
    assert status == 200, (url, status, body[:200])
    return body


def assert_refused_when_altered(url: str) -> None:
    """Another name under the same signature, or the same name for longer, is 403 ``url_invalid``."""
    parts = urllib.parse.urlsplit(url)
    _, _, expires, signature, name = parts.path.split("/", 4)
    for forged in (
        f"/m/{expires}/{signature}/{name}x",
        f"/m/{int(expires) + 60}/{signature}/{name}",
    ):
        response = Client().get(forged)
        assert response.status_code == 403 and response.json()["code"] == "url_invalid", forged
