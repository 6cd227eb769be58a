"""A reviewer signs in to the Django admin in headless Chromium (a one-time code from the app,
no password) and approves a filing there, on a real daphne, under the admin's
Content-Security-Policy."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.harness import Server, free_port
from tests.checkin.test_e2e_daphne import DevTools
from tests.support.own_server import _fresh_cache, _isolated_media  # noqa: F401 (own server)

CHROMIUM = "/usr/bin/chromium"
REVIEWER = "13800000001"  # the demo reviewer of 民治街道 (README, demo accounts)
FILING = "民治社区邻里互助志愿服务队"  # the demo filing left waiting for review
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.server]

if not Path(CHROMIUM).exists():
    if os.environ.get("LINLI_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (LINLI_REQUIRE_BROWSER=1) but missing")
    pytest.skip("headless Chromium is not installed", allow_module_level=True)


@pytest.fixture(autouse=True)
def _fresh_signing_keys() -> None:
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        [sys.executable, "manage.py", "seed_demo"],
    ]
    env = {"LINLI_MEDIA_ROOT": str(tmp_path_factory.mktemp("media")), "REDIS_URL": ""}
    with Server.linli(prepare=prepare, env=env, ready_timeout=90) as srv:
        yield srv


def _api(server, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{server.url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def _browser(port: int, profile: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _target(port: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                pages = [t for t in json.loads(response.read()) if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError("chromium did not open its debugging port")


# Records every Content-Security-Policy violation of the page (added by the test, not the site).
WATCH_CSP = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


async def _load(cdp: DevTools, url: str | None = None, click: str | None = None) -> None:
    """Navigate (or click a submit button) and wait for the next page to be loaded."""
    await cdp.evaluate("window.__loaded_marker = true")
    if url:
        await cdp.call("Page.navigate", url=url)
    else:
        await cdp.evaluate(f"document.querySelector({json.dumps(click)}).click()")
    await cdp.wait_for(
        "window.__loaded_marker === undefined && document.readyState === 'complete'", True, timeout=30
    )


async def _scenario(server, target: str, code: str) -> dict:
    from websockets.asyncio.client import connect as ws_connect

    async with ws_connect(target, max_size=None, ping_interval=None) as ws:
        cdp = DevTools(ws)
        await cdp.call("Page.enable")
        await cdp.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_CSP)
        seen: dict = {"violations": []}

        await _load(cdp, url=f"{server.url}/admin/")
        seen["login_path"] = await cdp.evaluate("location.pathname")
        seen["password_fields"] = await cdp.evaluate(
            "document.querySelectorAll('input[type=password]').length"
        )
        await cdp.evaluate(
            f"document.querySelector('#id_phone').value = {json.dumps(REVIEWER)};"
            f"document.querySelector('#id_code').value = {json.dumps(code)};"
        )
        await _load(cdp, click="#login-form input[type=submit]")
        seen["after_login"] = await cdp.evaluate("location.pathname")
        seen["violations"] += await cdp.evaluate("window.__csp")

        await _load(cdp, url=f"{server.url}/admin/filings/filing/?status__exact=accepted")
        row = await cdp.evaluate(
            "[...document.querySelectorAll('#result_list tbody tr')]"
            f".filter(tr => tr.textContent.includes({json.dumps(FILING)}))"
            ".map(tr => tr.querySelector('input.action-select').value)[0] || null"
        )
        seen["row"] = row
        await cdp.evaluate(
            f"document.querySelector('input.action-select[value=\"{row}\"]').click();"
            "document.querySelector('select[name=action]').value = 'approve';"
        )
        await _load(cdp, click="button[name=index]")
        seen["message"] = await cdp.evaluate(
            "document.querySelector('.messagelist') ? document.querySelector('.messagelist').textContent : ''"
        )
        seen["violations"] += await cdp.evaluate("window.__csp")
        shot = await cdp.call("Page.captureScreenshot", format="png")
        seen["screenshot"] = shot["data"]
        return seen


def test_a_reviewer_signs_in_and_approves_a_filing_in_the_admin(server, tmp_path):
    reviewer = _api(server, "POST", "/auth/dev-login", {"phone": REVIEWER})["access_token"]
    waiting = _api(server, "GET", "/review/filings?status=submitted", token=reviewer)["items"]
    filing = next(f for f in waiting if f["name"] == FILING)
    _api(server, "POST", f"/review/filings/{filing['id']}/accept", token=reviewer)  # accepted in the app
    code = _api(server, "POST", "/me/staff-sign-in-code", token=reviewer)["code"]

    port = free_port()
    profile = tempfile.mkdtemp(prefix="linli-chromium-")
    browser = _browser(port, profile)
    try:
        seen = asyncio.run(asyncio.wait_for(_scenario(server, _target(port), code), 120))
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)

    import base64

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    staged = ARTIFACTS / f".admin-approved.{os.getpid()}.png"
    staged.write_bytes(base64.b64decode(seen.pop("screenshot")))
    os.replace(staged, ARTIFACTS / "admin-approved.png")

    assert seen["login_path"] == "/admin/login/" and seen["password_fields"] == 0
    assert seen["after_login"] == "/admin/"
    assert seen["row"] == str(filing["id"])
    assert "已通过" in seen["message"], seen["message"]
    assert seen["violations"] == []
    approved = _api(server, "GET", f"/review/filings/{filing['id']}", token=reviewer)
    assert approved["status"] == "approved" and approved["filing_number"]
