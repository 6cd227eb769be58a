"""What a resident sees: the /v/<TOKEN> page in headless Chromium, served by a real daphne."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from bench.harness import Server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.server]

if not Path(CHROMIUM).exists():
    if os.environ.get("LINLI_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (LINLI_REQUIRE_BROWSER=1) but missing")
    pytest.skip("headless Chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        [
            sys.executable,
            "-c",
            "import os, sys; sys.path.insert(0, '.'); from tests.credentials.browser_seed import main; "
            "main(os.environ['BENCH_TMP'] + '/tokens.json')",
        ],
    ]
    env = {"LINLI_MEDIA_ROOT": str(media), "LINLI_LOOKUP_RATE": "1000/m"}
    with Server.linli(prepare=prepare, env=env, ready_timeout=60) as srv:
        srv.tokens = json.loads((srv.tmp / "tokens.json").read_text())
        yield srv


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60, check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _look(server, tmp_path, token: str, name: str) -> tuple[str, Image.Image]:
    url = f"{server.url}/v/{token}"
    dom = _chromium(tmp_path, "--dump-dom", url).stdout.decode()
    shot = tmp_path / f"credential-{name}.png"  # this test's own file: suites may run side by side
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=390,844", "--hide-scrollbars", url)
    image = Image.open(shot).convert("RGB")
    # Kept for people to look at: tests/artifacts/credential-<name>.png, replaced in one step.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    staged = ARTIFACTS / f".credential-{name}.{os.getpid()}.png"
    shutil.copyfile(shot, staged)
    os.replace(staged, ARTIFACTS / f"credential-{name}.png")
    return dom, image


def test_valid_badge_page_shows_green_valid_with_photo_and_masked_name(server, tmp_path):
    dom, shot = _look(server, tmp_path, server.tokens["valid"], "valid")
    assert 'id="status">有效</h1>' in dom
    assert 'id="name">张*三<' in dom and "张小三" not in dom
    assert "13800138000" not in dom and "440309" not in dom
    assert "查验时间" in dom and "安心燃气" in dom
    # The photo has no public URL: a signed one, loaded from the site that served the page.
    (src,) = re.findall(r'<img src="(/m/[^"]+/credentials/photos/[^"]+)"', dom)
    with urllib.request.urlopen(server.url + src.replace("&amp;", "&"), timeout=10) as photo:
        assert photo.status == 200 and photo.headers["Content-Type"].startswith("image/")
    assert shot.size == (390, 844)
    r, g, b = shot.getpixel((195, 40))  # the status band across the top
    assert g > 100 and g > r + 40 and g > b + 20, (r, g, b)  # green at a glance


def test_revoked_badge_page_shows_red_revoked(server, tmp_path):
    dom, shot = _look(server, tmp_path, server.tokens["revoked"], "revoked")
    assert 'id="status">已吊销</h1>' in dom and "请勿让其提供服务" in dom
    assert "李*海" in dom and "李四海" not in dom
    r, g, b = shot.getpixel((195, 40))
    assert r > 150 and r > g + 80 and r > b + 80, (r, g, b)  # red


def test_forged_badge_page_says_not_genuine(server, tmp_path):
    token = server.tokens["valid"]
    forged = token[:60] + ("B" if token[60] == "A" else "A") + token[61:]
    dom, _ = _look(server, tmp_path, forged, "forged")
    assert 'id="status">非本平台签发</h1>' in dom and "可能是伪造的" in dom
    assert "张*三" not in dom
