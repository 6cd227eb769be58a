"""A local stand-in for WeChat's server API, strict the way the real one is.

It serves the calls Linli makes (``sns/jscode2session``, ``cgi-bin/stable_token``,
``wxa/business/getuserphonenumber``, ``cgi-bin/message/subscribe/send``, ``wxa/msg_sec_check``,
``wxa/media_check_async``) on a loopback port, checks every request as WeChat does (app id and
secret, a current access token, one-use codes that expire after 5 minutes, registered templates
with typed fields and their limits, the user's remaining consent, openids of this app) and
answers WeChat's documented success and error bodies. It records every request, so tests can
assert what reached "WeChat", and it can sign and push the asynchronous image verdict to Linli's
message-push URL like WeChat does.

Tests drive it: ``issue_login()`` plays ``wx.login``, ``issue_phone_code()`` the
``getPhoneNumber`` button, ``user_accepts()`` a user's answer to ``wx.requestSubscribeMessage``,
``fail(path, errcode)`` makes the next calls of a path fail.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CODE_TTL = 300
TOKEN_TTL = 7200
HANDOVER = 300  # WeChat hands out a new stable token in the old one's last 5 minutes

# Limits of the typed fields of subscription messages (WeChat's documentation).
_CJK = r"\u4e00-\u9fff"
FIELD_RULES: dict[str, Any] = {
    "thing": lambda v: 0 < len(v) <= 20,
    "number": lambda v: re.fullmatch(r"-?\d+(\.\d+)?", v) is not None and len(v) <= 32,
    "letter": lambda v: re.fullmatch(r"[A-Za-z]{1,32}", v) is not None,
    "symbol": lambda v: 0 < len(v) <= 5,
    "character_string": lambda v: re.fullmatch(r"[\x21-\x7e]{1,32}", v) is not None,
    "time": lambda v: (
        re.fullmatch(r"(\d{4}年\d{1,2}月\d{1,2}日 ?)?\d{1,2}:\d{2}(:\d{2})?", v) is not None
        or re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", v) is not None
    ),
    "date": lambda v: re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?", v) is not None,
    "amount": lambda v: re.fullmatch(r"¥?\d{1,11}(\.\d{1,2})?元?", v) is not None,
    "phone_number": lambda v: re.fullmatch(r"[\d+\-() ]{1,17}", v) is not None,
    "car_number": lambda v: 0 < len(v) <= 8,
    "name": lambda v: (
        (re.fullmatch(f"[{_CJK}·]{{1,10}}", v) is not None)
        or (re.fullmatch(r"[A-Za-z ]{1,20}", v) is not None)
    ),
    "phrase": lambda v: re.fullmatch(f"[{_CJK}]{{1,5}}", v) is not None,
}


@dataclass
class _Code:
    value: Any
    issued: float
    used: bool = False


@dataclass
class Sent:
    openid: str
    template_id: str
    page: str
    data: dict[str, str]
    lang: str
    state: str


@dataclass
class MediaCheck:
    trace_id: str
    openid: str
    media_url: str
    scene: int


@dataclass
class StandInState:
    appid: str
    secret: str
    login_codes: dict[str, _Code] = field(default_factory=dict)
    phone_codes: dict[str, _Code] = field(default_factory=dict)
    openids: set[str] = field(default_factory=set)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch)
    current: str = ""
    forced_today: int = 0
    forced_at: float = 0.0
    templates: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> field -> type
    long_term: set[str] = field(default_factory=set)
    consent: dict[tuple[str, str], int] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    media_checks: dict[str, MediaCheck] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (method, path, body)
    failures: dict[str, list[int]] = field(default_factory=dict)
    stable_token_calls: int = 0
    forced_calls: int = 0
    delay: float = 0.0


class WeChatStandIn:
    def __init__(self, appid: str = "wx0123456789abcdef", secret: str = "f" * 32) -> None:
        self.state = StandInState(appid=appid, secret=secret)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> WeChatStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._dispatch(self, "GET")

            def do_POST(self) -> None:
                standin._dispatch(self, "POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # --- what a phone and the console do ------------------------------------------------------

    def issue_login(self, openid: str | None = None, unionid: str = "") -> str:
        """``wx.login`` on a phone: a one-use code for ``openid`` (a new user when omitted)."""
        openid = openid or "o" + secrets.token_urlsafe(20)[:27]
        code = secrets.token_hex(16)
        with self.lock:
            self.state.openids.add(openid)
            self.state.login_codes[code] = _Code({"openid": openid, "unionid": unionid}, time.time())
        return code

    def openid_of(self, code: str) -> str:
        return self.state.login_codes[code].value["openid"]

    def issue_phone_code(self, phone: str, country_code: str = "86") -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.state.phone_codes[code] = _Code({"phone": phone, "country": country_code}, time.time())
        return code

    def age_codes(self, seconds: float) -> None:
        """Let time pass for every issued code."""
        with self.lock:
            for code in [*self.state.login_codes.values(), *self.state.phone_codes.values()]:
                code.issued -= seconds

    def register_template(self, template_id: str, fields: dict[str, str], *, long_term: bool = False) -> None:
        with self.lock:
            self.state.templates[template_id] = dict(fields)
            if long_term:
                self.state.long_term.add(template_id)

    def user_accepts(self, openid: str, template_id: str, times: int = 1) -> None:
        """The user tapped "allow" on ``wx.requestSubscribeMessage`` ``times`` times."""
        with self.lock:
            key = (openid, template_id)
            self.state.consent[key] = self.state.consent.get(key, 0) + times

    def consent_left(self, openid: str, template_id: str) -> int:
        return self.state.consent.get((openid, template_id), 0)

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        """The next ``times`` calls of ``path`` answer ``errcode`` (-1 busy, 45011, 45009, ...)."""
        with self.lock:
            self.state.failures.setdefault(path.strip("/"), []).extend([errcode] * times)

    def invalidate_tokens(self) -> None:
        """Every access token handed out so far stops working, as after a forced refresh made
        elsewhere (another tool with the same app secret): WeChat holds a new current token."""
        with self.lock:
            self.state.tokens = {t: 0.0 for t in self.state.tokens}
            self._new_token(time.time())

    def expire_tokens(self) -> None:
        with self.lock:
            self.state.tokens = {t: time.time() - 1 for t in self.state.tokens}
            self.state.current = ""

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [body for _, p, body in self.state.requests if p == path.strip("/")]

    # --- the asynchronous image verdict ---------------------------------------------------------

    def media_verdict(
        self, trace_id: str, suggest: str, *, msg_token: str, label: int = 100
    ) -> tuple[dict, bytes]:
        """The signed push WeChat sends with an image's verdict: ``(query params, JSON body)``."""
        check = self.state.media_checks[trace_id]
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signature = hashlib.sha1("".join(sorted([msg_token, timestamp, nonce])).encode()).hexdigest()
        body = {
            "ToUserName": "gh_" + self.state.appid[-12:],
            "FromUserName": check.openid,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": "wxa_media_check",
            "appid": self.state.appid,
            "trace_id": trace_id,
            "version": 2,
            "detail": [
                {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}
            ],
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
        }
        params = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
        return params, json.dumps(body, ensure_ascii=False).encode()

    def fetch_media(self, trace_id: str, timeout: float = 5.0) -> tuple[int, str, bytes]:
        """Download the image as WeChat does before checking it (the URL must be public)."""
        url = self.state.media_checks[trace_id].media_url
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read()

    def push_media_verdict(self, trace_id: str, suggest: str, *, callback_url: str, msg_token: str) -> int:
        params, body = self.media_verdict(trace_id, suggest, msg_token=msg_token)
        request = urllib.request.Request(
            f"{callback_url}?{urllib.parse.urlencode(params)}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status

    # --- serving ----------------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        path = url.path.strip("/")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        body: Any = {}
        if method == "POST":
            raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._answer(handler, {"errcode": 47001, "errmsg": "data format error"})
        if self.state.delay:
            time.sleep(self.state.delay)
        with self.lock:
            self.state.requests.append((method, path, body if method == "POST" else params))
            queued = self.state.failures.get(path)
            if queued:
                errcode = queued.pop(0)
                return self._answer(handler, {"errcode": errcode, "errmsg": "stand-in failure"})
            route = ROUTES.get((method, path))
            if route is None:
                return self._answer(
                    handler,
                    {
                        "errcode": 43002
                        if (("GET" if method == "POST" else "POST"), path) in ROUTES
                        else 40066,
                        "errmsg": "invalid url",
                    },
                )
            answer = route(self, params, body)
        self._answer(handler, answer)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; encoding=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _token_error(self, params: dict[str, str]) -> dict[str, Any] | None:
        token = params.get("access_token")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        expiry = self.state.tokens.get(token)
        if expiry is None or expiry == 0.0:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if expiry < time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    # handlers (called with the lock held)

    def _jscode2session(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        if params.get("appid") != self.state.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if params.get("secret") != self.state.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if params.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        code = self.state.login_codes.get(params.get("js_code", ""))
        if code is None or time.time() - code.issued > CODE_TTL:
            return {"errcode": 40029, "errmsg": "invalid code"}
        if code.used:
            return {"errcode": 40163, "errmsg": "code been used"}
        code.used = True
        answer = {"openid": code.value["openid"], "session_key": secrets.token_urlsafe(18)}
        if code.value["unionid"]:
            answer["unionid"] = code.value["unionid"]
        return answer

    def _stable_token(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        self.state.stable_token_calls += 1
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if body.get("appid") != self.state.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("secret") != self.state.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        now = time.time()
        force = body.get("force_refresh") is True
        if force:
            self.state.forced_calls += 1
            if self.state.forced_today >= 20:
                return {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
            if now - self.state.forced_at >= 30:
                self.state.forced_today += 1
                self.state.forced_at = now
                for token in self.state.tokens:  # a forced refresh ends the old token at once
                    self.state.tokens[token] = 0.0
                return self._new_token(now)
        current_expiry = self.state.tokens.get(self.state.current, 0.0)
        if self.state.current and current_expiry - now > HANDOVER:
            return {"access_token": self.state.current, "expires_in": int(current_expiry - now)}
        return self._new_token(now)

    def _new_token(self, now: float) -> dict[str, Any]:
        old = self.state.current
        if old and self.state.tokens.get(old, 0.0) > now:
            self.state.tokens[old] = min(self.state.tokens[old], now + HANDOVER)
        token = "AT" + secrets.token_urlsafe(40)
        self.state.tokens[token] = now + TOKEN_TTL
        self.state.current = token
        return {"access_token": token, "expires_in": TOKEN_TTL}

    def _phone(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        if error := self._token_error(params):
            return error
        code = self.state.phone_codes.get(str(body.get("code", "")))
        if code is None or code.used or time.time() - code.issued > CODE_TTL:
            return {"errcode": 40029, "errmsg": "invalid code"}
        code.used = True
        phone, country = code.value["phone"], code.value["country"]
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": phone if country == "86" else f"+{country}{phone}",
                "purePhoneNumber": phone,
                "countryCode": country,
                "watermark": {"timestamp": int(time.time()), "appid": self.state.appid},
            },
        }

    def _subscribe_send(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        if error := self._token_error(params):
            return error
        openid, template_id = body.get("touser"), body.get("template_id")
        if openid not in self.state.openids:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        fields = self.state.templates.get(template_id)
        if fields is None:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        if body.get("miniprogram_state", "formal") not in {"developer", "trial", "formal"}:
            return {"errcode": 47001, "errmsg": "invalid miniprogram_state"}
        if body.get("lang", "zh_CN") not in {"zh_CN", "en_US", "zh_HK", "zh_TW"}:
            return {"errcode": 47001, "errmsg": "invalid lang"}
        if "page" in body and not isinstance(body["page"], str):
            return {"errcode": 41030, "errmsg": "invalid page"}
        data = body.get("data")
        if not isinstance(data, dict) or set(data) != set(fields):
            return {
                "errcode": 47003,
                "errmsg": f"argument invalid! data fields {sorted(data or {})} != {sorted(fields)}",
            }
        for name, kind in fields.items():
            entry = data[name]
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str) or not FIELD_RULES[kind](value):
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{name}.value invalid: {value!r}"}
        key = (openid, template_id)
        if template_id not in self.state.long_term:
            if self.state.consent.get(key, 0) <= 0:
                return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            self.state.consent[key] -= 1
        self.state.sent.append(
            Sent(
                openid=openid,
                template_id=template_id,
                page=body.get("page", ""),
                data={k: v["value"] for k, v in data.items()},
                lang=body.get("lang", "zh_CN"),
                state=body.get("miniprogram_state", "formal"),
            )
        )
        return {"errcode": 0, "errmsg": "ok", "msgid": len(self.state.sent)}

    def _check_common(self, params: dict[str, str], body: Any) -> dict[str, Any] | None:
        if error := self._token_error(params):
            return error
        if body.get("version") != 2:
            return {"errcode": 47001, "errmsg": "version must be 2"}
        if body.get("openid") not in self.state.openids:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        if body.get("scene") not in (1, 2, 3, 4):
            return {"errcode": 40129, "errmsg": "invalid scene"}
        return None

    def _msg_sec_check(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        if error := self._check_common(params, body):
            return error
        content = body.get("content")
        if not isinstance(content, str) or not content:
            return {"errcode": 44002, "errmsg": "empty post data"}
        if len(content) > 2500:
            return {"errcode": 47001, "errmsg": "content too long"}
        text = content + str(body.get("title") or "")
        if "违禁" in text or "RISKY" in text:
            suggest, label = "risky", 20006
        elif "待审" in text or "REVIEW" in text:
            suggest, label = "review", 21000
        else:
            suggest, label = "pass", 100
        trace_id = secrets.token_hex(12)
        return {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
            "detail": [
                {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}
            ],
            "trace_id": trace_id,
        }

    def _media_check_async(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        if error := self._check_common(params, body):
            return error
        media_url = body.get("media_url")
        if not isinstance(media_url, str) or not media_url.startswith(("http://", "https://")):
            return {"errcode": 47001, "errmsg": "invalid media_url"}
        if body.get("media_type") != 2:
            return {"errcode": 47001, "errmsg": "media_type must be 2 for an image"}
        trace_id = secrets.token_hex(12)
        self.state.media_checks[trace_id] = MediaCheck(
            trace_id=trace_id, openid=body["openid"], media_url=media_url, scene=body["scene"]
        )
        return {"errcode": 0, "errmsg": "ok", "trace_id": trace_id}


ROUTES = {
    ("GET", "sns/jscode2session"): WeChatStandIn._jscode2session,
    ("POST", "cgi-bin/stable_token"): WeChatStandIn._stable_token,
    ("POST", "wxa/business/getuserphonenumber"): WeChatStandIn._phone,
    ("POST", "cgi-bin/message/subscribe/send"): WeChatStandIn._subscribe_send,
    ("POST", "wxa/msg_sec_check"): WeChatStandIn._msg_sec_check,
    ("POST", "wxa/media_check_async"): WeChatStandIn._media_check_async,
}
