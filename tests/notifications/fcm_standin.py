"""A local stand-in for Google's FCM HTTP v1 API, driven by the real firebase-admin SDK.

There is no FCM emulator, so the suite runs this small HTTP server on 127.0.0.1. It implements
the two endpoints the SDK calls:

- ``POST /token``: the OAuth 2.0 token endpoint of the generated service account. It checks the
  JWT-bearer assertion (RS256 signature under the service account's key, issuer, audience,
  scope) and hands out an access token.
- ``POST /v1/projects/<project>/messages:send``: checks the bearer token, the project, and the
  message (exactly one target, ``token`` or ``fid``; notification title/body; string-only data)
  and answers ``{"name": "projects/<p>/messages/<id>"}`` or a programmed FCM error.

Use from any test (other domains too)::

    from tests.notifications.fcm_standin import fcm_standin  # noqa: F401  (in your conftest.py)

    def test_approval_is_pushed(fcm_standin, django_capture_on_commit_callbacks):
        token = fcm_standin.register_device(user)          # a Device row with a fresh token
        with django_capture_on_commit_callbacks(execute=True):
            filing_approve(...)                             # the cause; notify() inside
        [msg] = fcm_standin.delivered_to(token)
        assert msg["data"]["kind"] == "filings.approved"
        assert "批准" in msg["notification"]["title"]

``fcm_standin.fail(token, "unregistered" | "invalid" | "sender_mismatch" | "quota" | "internal"
| "unavailable", times=None)`` makes the next ``times`` sends to that address fail (``None``:
all of them). ``fcm_standin.flush()`` pushes every pending notification that is due right away
(for ``db`` tests where after-commit callbacks do not run). ``fcm_standin.problems`` lists every
malformed request the server saw; the fixture fails the test if any remain.

The fixture points ``settings.FIREBASE_CREDENTIALS`` at a generated service account (fresh RSA
key, ``token_uri`` = the stand-in) and ``messaging._MessagingService.FCM_URL`` at the stand-in.
It also turns off google-auth's background lookup of the service account's regional access
boundary (a call to iamcredentials.googleapis.com: tests reach loopback only) and removes
urllib3's sleeps between the SDK's own retries of HTTP 500/503 (the SDK still
makes them: a persistent 500 costs five requests), so tests stay fast.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

LOOPBACK = "127.0.0.1"
PROJECT_ID = "linli-standin"
CLIENT_EMAIL = "linli-push@linli-standin.iam.gserviceaccount.com"

ERRORS: dict[str, tuple[int, str, str | None]] = {
    # name: (HTTP status, google.rpc status, FcmError errorCode)
    "unregistered": (404, "NOT_FOUND", "UNREGISTERED"),
    "invalid": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    "sender_mismatch": (403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
    "quota": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    "internal": (500, "INTERNAL", "INTERNAL"),
    "unavailable": (503, "UNAVAILABLE", "UNAVAILABLE"),
}


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FcmStandin:
    """The server and what it has seen. Thread-safe; one per test session (see ``shared()``)."""

    def __init__(self, project_id: str = PROJECT_ID) -> None:
        self.project_id = project_id
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()
        # Access tokens stay valid for the server's life: the SDK caches them across tests.
        self._access_tokens: set[str] = set()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fcm-standin", daemon=True)
        self._thread.start()
        self.port = self._server.server_address[1]
        self._dir = Path(tempfile.mkdtemp(prefix="linli-fcm-standin-"))
        self.credentials_path = self._write_service_account()
        self.reset()

    # --- addresses ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def fcm_url_template(self) -> str:
        """The value for ``messaging._MessagingService.FCM_URL``."""
        return self.base_url + "/v1/projects/{0}/messages:send"

    def _write_service_account(self) -> str:
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": f"{self.base_url}/auth",
            "token_uri": self.token_uri,
        }
        path = self._dir / "service-account.json"
        path.write_text(json.dumps(info))
        return str(path)

    # --- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.requests: list[dict[str, Any]] = []  # every messages:send request, in order
            self.problems: list[str] = []
            self.token_requests = 0
            self._failures: dict[
                str, list[Any]
            ] = {}  # address -> [error name, remaining or None, retry_after]

    def fail(
        self, address: str, error: str, *, times: int | None = None, retry_after: int | None = None
    ) -> None:
        """Answer sends to ``address`` with ``error`` (see ``ERRORS``): the next ``times`` ones, or all."""
        if error not in ERRORS:
            raise ValueError(f"unknown error {error!r}; one of {sorted(ERRORS)}")
        with self._lock:
            self._failures[address] = [error, times, retry_after]

    def heal(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def delivered(self) -> list[dict[str, Any]]:
        """Messages FCM accepted (HTTP 200), each the JSON ``message`` object plus ``_address``."""
        with self._lock:
            return [r["message"] | {"_address": r["address"]} for r in self.requests if r["status"] == 200]

    def delivered_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.delivered() if m["_address"] == address]

    def requests_to(self, address: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["address"] == address]

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout`` seconds (for sends from other processes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return bool(predicate(self))

    # --- Django glue ------------------------------------------------------------------------------
    def install(self, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point Django settings and firebase-admin at this server for one test."""
        import google.auth.credentials
        import urllib3
        from firebase_admin import messaging

        settings.FIREBASE_CREDENTIALS = self.credentials_path
        settings.FIREBASE_PROJECT_ID = self.project_id
        monkeypatch.setattr(messaging._MessagingService, "FCM_URL", self.fcm_url_template)
        monkeypatch.setattr(urllib3.util.retry.Retry, "get_backoff_time", lambda self: 0.0)
        # google-auth looks up a service account's "regional access boundary" at
        # iamcredentials.googleapis.com in a background thread; tests talk to loopback only.
        monkeypatch.setattr(
            google.auth.credentials.CredentialsWithRegionalAccessBoundary,
            "_is_regional_access_boundary_lookup_required",
            lambda self: False,
        )
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, LOOPBACK)

    def register_device(
        self,
        user: Any,
        *,
        token: str | None = None,
        platform: str = "android",
        token_type: str = "registration",
    ) -> str:
        """Register a phone for ``user`` through the real service; returns its push address."""
        from backend.notifications.services import device_register

        token = token or f"standin-{secrets.token_urlsafe(24)}"
        device_register(user=user, token=token, platform=platform, token_type=token_type)
        return token

    def flush(self) -> dict[str, Any]:
        """Push every pending notification whose time has come, now (ignores the sweep grace)."""
        from django.utils import timezone

        from backend.notifications.delivery import deliver
        from backend.notifications.models import Notification

        ids = list(
            Notification.objects.filter(push_state="pending", push_after__lte=timezone.now()).values_list(
                "pk", flat=True
            )
        )
        return deliver(notification_ids=ids).as_dict()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- HTTP ------------------------------------------------------------------------------------
    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def _verify_assertion(self, assertion: str) -> str | None:
        """None if the JWT-bearer assertion is genuine, else what is wrong with it."""
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, json.JSONDecodeError):
            return "assertion is not a JWT"
        if header.get("alg") != "RS256":
            return f"assertion alg {header.get('alg')!r}"
        try:
            self._key.public_key().verify(
                signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return "assertion signature does not verify"
        if claims.get("iss") != CLIENT_EMAIL:
            return f"assertion iss {claims.get('iss')!r}"
        # google-auth signs for Google's token endpoint whatever token_uri says; Google accepts both.
        if claims.get("aud") not in (self.token_uri, "https://oauth2.googleapis.com/token"):
            return f"assertion aud {claims.get('aud')!r}"
        scopes = str(claims.get("scope", "")).split()
        if not any(s.endswith("/firebase.messaging") or s.endswith("/cloud-platform") for s in scopes):
            return f"assertion scope {scopes!r}"
        if int(claims.get("exp", 0)) < time.time():
            return "assertion expired"
        return None

    def _check_message(self, body: Any) -> tuple[str, str] | str:
        """(target kind, address) of a well-formed send request, else what is wrong."""
        if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
            return "body has no message object"
        message = body["message"]
        targets = [k for k in ("token", "fid", "topic", "condition") if k in message]
        if len(targets) != 1 or targets[0] not in ("token", "fid"):
            return f"message targets {targets!r}"
        note = message.get("notification")
        if not isinstance(note, dict) or not note.get("title") or not note.get("body"):
            return "message has no notification title/body"
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return "data values must all be strings"
        return targets[0], str(message[targets[0]])

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_FcmHandler,), {"standin": self})


_shared: FcmStandin | None = None
_shared_lock = threading.Lock()


def shared() -> FcmStandin:
    """The one stand-in server of this test process (started on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FcmStandin()
        return _shared


@contextlib.contextmanager
def running(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FcmStandin]:
    server = shared()
    server.reset()
    server.install(settings, monkeypatch)
    yield server
    problems = list(server.problems)
    server.reset()
    assert not problems, f"the FCM stand-in saw malformed requests: {problems}"


@pytest.fixture
def fcm_standin(settings, monkeypatch) -> Iterator[FcmStandin]:
    """A clean stand-in FCM server wired into settings and firebase-admin for this test."""
    with running(settings, monkeypatch) as server:
        yield server


class _FcmHandler(BaseHTTPRequestHandler):
    """The stand-in's HTTP side; ``standin`` is set on a subclass per server."""

    standin: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, rpc_status: str, code: str | None, message: str, headers=None) -> None:
        error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
        if code:
            error["details"] = [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ]
        self._reply(status, {"error": error}, headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/token":
            self._token(raw)
        elif self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send"):
            self._send(raw)
        else:
            self.standin._problem(f"unexpected POST {self.path}")
            self._error(404, "NOT_FOUND", None, "no such endpoint")

    def _token(self, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self.standin._lock:
            self.standin.token_requests += 1
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.standin._problem(f"token grant_type {form.get('grant_type')!r}")
            self._reply(400, {"error": "unsupported_grant_type"})
            return
        wrong = self.standin._verify_assertion(form.get("assertion", ""))
        if wrong:
            self.standin._problem(wrong)
            self._reply(400, {"error": "invalid_grant", "error_description": wrong})
            return
        token = "ya29.standin-" + secrets.token_urlsafe(24)
        with self.standin._lock:
            self.standin._access_tokens.add(token)
        self._reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _send(self, raw: bytes) -> None:
        project = self.path[len("/v1/projects/") : -len("/messages:send")]
        auth = self.headers.get("Authorization", "")
        with self.standin._lock:
            authorised = auth.startswith("Bearer ") and auth[7:] in self.standin._access_tokens
        if not authorised:
            self.standin._problem("send without a valid bearer token")
            self._error(401, "UNAUTHENTICATED", None, "Request had invalid authentication credentials.")
            return
        if project != self.standin.project_id:
            self.standin._problem(f"send to project {project!r}")
            self._error(403, "PERMISSION_DENIED", None, "wrong project")
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        checked = self.standin._check_message(body)
        if isinstance(checked, str):
            self.standin._problem(checked)
            self._error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", checked)
            return
        target, address = checked
        with self.standin._lock:
            failure = self.standin._failures.get(address)
            if failure is not None:
                name, remaining, retry_after = failure
                if remaining is not None:
                    if remaining <= 1:
                        self.standin._failures.pop(address, None)
                    else:
                        failure[1] = remaining - 1
            status = ERRORS[failure[0]][0] if failure else 200
            self.standin.requests.append(
                {"address": address, "target": target, "message": body["message"], "status": status}
            )
        if failure is not None:
            name, _, retry_after = failure
            http_status, rpc_status, code = ERRORS[name]
            headers = {"Retry-After": str(retry_after)} if retry_after else None
            self._error(http_status, rpc_status, code, f"standin: {name}", headers)
            return
        self._reply(200, {"name": f"projects/{project}/messages/{secrets.token_hex(8)}"})
