"""The wire: one JSON request to WeChat's server API, with a bounded retry when WeChat is busy.

A thin typed client of our own, over httpx: the best-known Python SDK (wechatpy) last released
a stable version in 2021 and has neither the phone-number call, nor version 2 of the text check,
nor ``stable_token``. Everything here raises ``WeChatError`` (WeChat answered with an errcode)
or ``Unreachable`` (no usable answer); services turn those into Linli's error codes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from backend.wechat import conf

log = logging.getLogger("linli.wechat")

BUSY = -1
TOKEN_INVALID = 40001
TOKEN_EXPIRED = 42001
TOKEN_ERRORS = frozenset({TOKEN_INVALID, TOKEN_EXPIRED})


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str = "") -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"WeChat error {errcode}: {errmsg}")


class Unreachable(Exception):
    """No answer, a transport error, or an answer that is not WeChat's JSON."""


_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        timeout = conf.http_timeout()
        _client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)), trust_env=False)
    return _client


def _once(
    method: str, path: str, *, params: dict[str, Any] | None, json: dict[str, Any] | None
) -> dict[str, Any]:
    url = f"{conf.api_base()}/{path.lstrip('/')}"
    try:
        response = _http().request(method, url, params=params, json=json)
    except httpx.HTTPError as exc:
        raise Unreachable(f"{method} {path}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise Unreachable(f"{method} {path}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise Unreachable(f"{method} {path}: not JSON") from exc
    if not isinstance(body, dict):
        raise Unreachable(f"{method} {path}: not a JSON object")
    errcode = body.get("errcode", 0)
    if errcode not in (0, None):
        raise WeChatError(int(errcode), str(body.get("errmsg", "")))
    return body


def call(
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
    retries: int | None = None,
) -> dict[str, Any]:
    """One call, tried again (``retries`` times, growing pauses) while WeChat is busy (-1) or does
    not answer; the last failure goes up."""
    retries = conf.busy_retries() if retries is None else retries
    for attempt in range(retries + 1):
        try:
            return _once(method, path, params=params, json=json)
        except WeChatError as exc:
            if exc.errcode != BUSY or attempt == retries:
                raise
        except Unreachable:
            if attempt == retries:
                raise
        log.warning("WeChat %s busy or unreachable; try %s of %s", path, attempt + 2, retries + 1)
        time.sleep(conf.busy_backoff() * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class LoginSession:
    openid: str
    unionid: str
    session_key: str


def code2session(code: str) -> LoginSession:
    """``sns/jscode2session``: a ``wx.login`` code (one use, 5 minutes) for the user's openid."""
    body = call(
        "GET",
        "sns/jscode2session",
        params={
            "appid": conf.app_id(),
            "secret": conf.app_secret(),
            "js_code": code,
            "grant_type": "authorization_code",
        },
    )
    openid = str(body.get("openid") or "")
    if not openid:
        raise Unreachable("jscode2session: no openid in the answer")
    return LoginSession(
        openid=openid, unionid=str(body.get("unionid") or ""), session_key=str(body.get("session_key") or "")
    )


def stable_token(*, force_refresh: bool = False) -> tuple[str, int]:
    """``cgi-bin/stable_token``: the app's access token and its remaining lifetime in seconds."""
    body = call(
        "POST",
        "cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": conf.app_id(),
            "secret": conf.app_secret(),
            "force_refresh": force_refresh,
        },
    )
    token = str(body.get("access_token") or "")
    if not token:
        raise Unreachable("stable_token: no access_token in the answer")
    return token, int(body.get("expires_in") or 0)


def close() -> None:
    """Drop the pooled connections (tests, and after a fork)."""
    global _client
    if _client is not None:
        _client.close()
        _client = None
