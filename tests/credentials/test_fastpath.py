"""The ASGI fast path of the public lookup (``backend.credentials.lookup.fastpath``).

In process: which requests it takes, no query for a forged token, the rate limit and the log.
Through daphne: two real servers on one database, one with the fast path and one without it
(``LINLI_LOOKUP_FAST_PATH=0``, i.e. the ninja route and the Django view), answer every kind of
badge with the same status, headers and body.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import sqlite3
import sys
import time
from datetime import datetime

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.core.signed_tokens import CREDENTIAL_DOMAIN, parse_token, sign_token
from backend.credentials.lookup import ratelimit
from backend.credentials.lookup.fastpath import LookupFastPath, route
from backend.credentials.lookup.log import lookup_log
from backend.credentials.models import LookupLog
from bench.harness import Server
from tests.credentials import factories as f
from tests.support.asgi import http_scope


def _forge(token: str) -> str:
    payload, _, _ = parse_token(token)
    return sign_token(payload, private_key=Ed25519PrivateKey.generate(), domain=CREDENTIAL_DOMAIN)


# --- in process ----------------------------------------------------------------------------------


class _Fallback:
    """Stands in for the lean Django handler: records what the fast path hands over."""

    def __init__(self) -> None:
        self.paths: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"fallback"})


def _scope(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> dict:
    return http_scope(path, method, headers)


def _call(app, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    async def go():
        communicator = ApplicationCommunicator(app, _scope(path, method, headers))
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        body = await communicator.receive_output(10)
        await communicator.wait(10)
        await ratelimit.aclose()  # this event loop ends with the call
        return start, body

    start, body = async_to_sync(go)()
    headers_out = {k.decode().lower(): v.decode("latin1") for k, v in start["headers"]}
    return start["status"], headers_out, body["body"]


@pytest.fixture
def fast_app():
    return LookupFastPath(fallback=_Fallback())


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/verify/ABC", ("api", "ABC")),
        ("GET", "/v/ABC", ("page", "ABC")),
        ("GET", "/api/v1/verify/keys", None),
        ("GET", "/api/v1/verify/manual", None),
        ("POST", "/api/v1/verify/manual", None),
        ("POST", "/api/v1/verify/ABC", None),
        ("HEAD", "/v/ABC", None),
        ("GET", "/v/", None),
        ("GET", "/api/v1/verify/", None),
        ("GET", "/api/v1/verify/ABC/", None),
        ("GET", "/v/ABC/extra", None),
        ("GET", "/api/v1/ping", None),
    ],
)
def test_route_takes_only_token_lookups(method, path, expected):
    assert route(_scope(path, method)) == expected


@pytest.mark.django_db
def test_requests_it_does_not_serve_go_to_the_django_handler(fast_app):
    status, _, body = _call(fast_app, "/api/v1/verify/keys")
    assert (status, body) == (299, b"fallback")
    _call(fast_app, "/api/v1/verify/manual", method="POST")
    _call(fast_app, "/v/")
    assert fast_app.fallback.paths == [
        ("GET", "/api/v1/verify/keys"),
        ("POST", "/api/v1/verify/manual"),
        ("GET", "/v/"),
    ]


@pytest.mark.django_db
def test_forged_token_costs_no_query_on_the_fast_path(fast_app, django_assert_num_queries):
    credential = f.valid_credential()
    _call(fast_app, f"/api/v1/verify/{credential.token}")  # the keys are now cached in this process
    with django_assert_num_queries(1):  # the counter does see the fast path's query
        status, _, body = _call(fast_app, f"/api/v1/verify/{credential.token}")
    assert status == 200 and json.loads(body)["status"] == "valid"
    forged = _forge(credential.token)
    with django_assert_num_queries(0):
        api = _call(fast_app, f"/api/v1/verify/{forged}")
        page = _call(fast_app, f"/v/{forged}")
        garbage = _call(fast_app, "/api/v1/verify/HELLO-WORLD")
    assert json.loads(api[2])["status"] == "not_genuine" and api[1]["cache-control"] == "no-store"
    assert page[0] == 200 and 'data-status="not_genuine"' in page[2].decode()
    assert json.loads(garbage[2])["status"] == "not_genuine"
    assert fast_app.fallback.paths == []


@pytest.mark.django_db
def test_fast_path_answers_like_the_ninja_route(fast_app, api):
    credential = f.valid_credential()
    for token in (credential.token, _forge(credential.token)):
        status, headers, body = _call(fast_app, f"/api/v1/verify/{token}", **{"Accept-Language": "en"})
        django = api.client.get(f"/api/v1/verify/{token}", HTTP_ACCEPT_LANGUAGE="en")
        assert status == django.status_code == 200
        assert headers["content-type"] == django["Content-Type"] == "application/json"
        assert headers["cache-control"] == django["Cache-Control"] == "no-store"
        assert headers["content-length"] == str(len(body))
        ours, theirs = json.loads(body), django.json()
        assert ours.pop("checked_at") and theirs.pop("checked_at")
        assert ours == theirs


@pytest.mark.django_db
def test_fast_path_rate_limit_answers_429_with_the_error_body_and_logs_it(fast_app, settings):
    settings.LINLI_LOOKUP_RATE = "1/m"
    credential = f.valid_credential()
    path = f"/api/v1/verify/{credential.token}"
    assert _call(fast_app, path)[0] == 200
    status, headers, body = _call(fast_app, path, **{"Accept-Language": "en-US,en;q=0.9"})
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 60
    assert headers["cache-control"] == "no-store"
    assert json.loads(body) == {
        "code": "rate_limited",
        "message": "Too many requests. Please try again later.",
        "details": {"retry_after": int(headers["retry-after"])},
    }
    page = _call(fast_app, f"/v/{credential.token}")  # the page shares the QR lookup's limit
    assert page[0] == 429 and "请稍后再试" in page[2].decode() and page[1]["retry-after"]
    assert lookup_log.flush() == 3
    assert list(LookupLog.objects.order_by("id").values_list("result", "channel")) == [
        ("valid", "api"),
        ("rate_limited", "api"),
        ("rate_limited", "page"),
    ]


@pytest.mark.django_db
def test_fast_path_rate_limit_counts_the_trusted_proxy_entry(fast_app, settings):
    settings.LINLI_LOOKUP_RATE = "1/m"
    settings.NINJA_NUM_PROXIES = 1
    credential = f.valid_credential()
    path = f"/api/v1/verify/{credential.token}"
    assert _call(fast_app, path, **{"X-Forwarded-For": "203.0.113.7"})[0] == 200
    assert _call(fast_app, path, **{"X-Forwarded-For": "1.1.1.1, 203.0.113.7"})[0] == 429
    assert _call(fast_app, path, **{"X-Forwarded-For": "198.51.100.9"})[0] == 200


@pytest.mark.django_db
def test_fast_path_logs_lookups_with_coarse_client_info(fast_app):
    credential = f.valid_credential()
    _call(fast_app, f"/v/{credential.token}", **{"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    _call(fast_app, f"/api/v1/verify/{_forge(credential.token)}")
    assert lookup_log.flush() == 2
    page, forged = LookupLog.objects.order_by("id")
    assert (page.result, page.channel, page.credential_id, page.client_kind) == (
        "valid",
        "page",
        credential.pk,
        "android",
    )
    assert page.client_net == "127.0.0.0/24" and page.token_id == credential.token_id
    assert (forged.result, forged.channel, forged.detail, forged.credential_id) == (
        "not_genuine",
        "api",
        "bad_signature",
        None,
    )


# --- through daphne: fast path and Django path side by side --------------------------------------

_FRAMING = {"date", "server", "content-length", "transfer-encoding"}
_CHECKED_AT = re.compile(r'<span id="checked-at">[^<]*</span>')
_WAIT = re.compile(r"请 \d+ 秒后再试")
# A signed photo URL carries its expiry (and in dev the host the request reached): compare the file.
_SIGNED = re.compile(r"(?:https?://[^/\"]+)?/m/\d+/[A-Za-z0-9_=-]+/")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    shared = tmp_path_factory.mktemp("fastpath")
    db = shared / "db.sqlite3"
    tokens = shared / "tokens.json"
    common = {
        "DATABASE_URL": f"sqlite:///{db}",
        "LINLI_MEDIA_ROOT": str(shared / "media"),
        "LINLI_NUM_PROXIES": "1",
        "LINLI_LOOKUP_RATE": "2/m",
    }
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, '.'); from tests.credentials.browser_seed import statuses; "
            f"statuses({str(tokens)!r})",
        ],
    ]
    pid = os.getpid()
    fast_env = {**common, "LINLI_REDIS_PREFIX": f"linli-fp-fast-{pid}"}
    django_env = {**common, "LINLI_REDIS_PREFIX": f"linli-fp-django-{pid}", "LINLI_LOOKUP_FAST_PATH": "0"}
    with (
        Server.linli(prepare=prepare, env=fast_env) as fast,
        Server.linli(prepare=[], env=django_env) as django,
    ):
        yield {"fast": fast, "django": django, "tokens": json.loads(tokens.read_text()), "db": db}


_addresses = itertools.count(1)


def _get(server: Server, path: str, client: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", path, headers={"X-Forwarded-For": client, **headers})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def _normal(status: int, headers: dict[str, str], body: bytes) -> tuple:
    """The answer without what differs from one request to the next (check time, framing)."""
    if "retry-after" in headers:
        assert 1 <= int(headers["retry-after"]) <= 60
        headers = {**headers, "retry-after": "N"}
    kept = {k: v for k, v in headers.items() if k not in _FRAMING}
    if headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body)
        if "checked_at" in data:
            assert datetime.fromisoformat(data.pop("checked_at")).tzinfo is not None
        if data.get("code") == "rate_limited":
            data["details"]["retry_after"] = "N"
        if (data.get("credential") or {}).get("photo_url"):
            data["credential"]["photo_url"] = _SIGNED.sub(
                "/m/EXPIRY/SIGNATURE/", data["credential"]["photo_url"]
            )
        return status, kept, data
    html = body.decode()
    assert _CHECKED_AT.search(html) or "rate_limited" in html
    return (
        status,
        kept,
        _SIGNED.sub("/m/EXPIRY/SIGNATURE/", _WAIT.sub("请 N 秒后再试", _CHECKED_AT.sub("", html))),
    )


def _both(pair, path: str, **headers: str) -> tuple[tuple, tuple]:
    n = next(_addresses)
    fast = _get(pair["fast"], path, f"10.77.{n // 250}.{n % 250}", **headers)
    django = _get(pair["django"], path, f"10.88.{n // 250}.{n % 250}", **headers)
    assert fast[1]["content-length"] == str(len(fast[2]))  # the fast path frames its answers
    return _normal(*fast), _normal(*django)


_KINDS = ["valid", "expired", "suspended", "revoked", "blacklisted", "forged", "garbage", "lower"]


def _token(pair, kind: str) -> str:
    if kind == "forged":
        return _forge(pair["tokens"]["valid"])
    if kind == "garbage":
        return "NOT-A-BADGE"
    if kind == "lower":
        return pair["tokens"]["valid"].lower()
    return pair["tokens"][kind]


@pytest.mark.server
@pytest.mark.parametrize("kind", _KINDS)
def test_daphne_fast_path_json_equals_the_ninja_route(pair, kind):
    token = _token(pair, kind)
    for headers in ({}, {"Accept-Language": "en"}):
        fast, django = _both(pair, f"/api/v1/verify/{token}", **headers)
        assert fast == django
        status, headers_out, body = fast
        assert status == 200 and headers_out["cache-control"] == "no-store"
        expected = {"forged": "not_genuine", "garbage": "not_genuine", "lower": "valid"}.get(kind, kind)
        assert body["status"] == expected
        assert "13800138000" not in json.dumps(body) and "440309" not in json.dumps(body)


@pytest.mark.server
@pytest.mark.parametrize("kind", _KINDS)
def test_daphne_fast_path_page_equals_the_django_view(pair, kind):
    fast, django = _both(pair, f"/v/{_token(pair, kind)}")
    assert fast == django
    status, headers, html = fast
    assert status == 200 and headers["cache-control"] == "no-store"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["content-type"] == "text/html; charset=utf-8"
    expected = {"forged": "not_genuine", "garbage": "not_genuine", "lower": "valid"}.get(kind, kind)
    assert f'data-status="{expected}"' in html


@pytest.mark.server
@pytest.mark.parametrize("path", ["/api/v1/verify/{token}", "/v/{token}"])
def test_daphne_rate_limit_answers_equal(pair, path):
    path = path.format(token=pair["tokens"]["valid"])
    n = next(_addresses)
    answers = {}
    for name, net in (("fast", "10.77"), ("django", "10.88")):
        client = f"{net}.200.{n % 250}"
        for _ in range(2):  # the limit is 2 a minute
            assert _get(pair[name], path, client)[0] == 200
        answers[name] = _normal(*_get(pair[name], path, client, **{"Accept-Language": "en"}))
    assert answers["fast"] == answers["django"]
    assert answers["fast"][0] == 429


@pytest.mark.server
def test_daphne_fast_path_leaves_other_routes_to_django(pair):
    status, headers, body = _get(pair["fast"], "/api/v1/verify/keys", "10.77.250.1")
    assert status == 200 and json.loads(body)["keys"][0]["kty"] == "OKP"
    assert headers["cache-control"] == "public, max-age=300"
    status, _, body = _get(pair["fast"], "/v/", "10.77.250.2")
    assert status == 200 and 'name="certificate_no"' in body.decode()


@pytest.mark.server
def test_daphne_fast_path_lookups_are_logged(pair):
    token = pair["tokens"]["suspended"]
    _get(pair["fast"], f"/api/v1/verify/{token}", "10.77.251.9")
    _get(pair["fast"], f"/v/{token}", "10.77.251.9")
    table = LookupLog._meta.db_table
    deadline = time.monotonic() + 15  # the server writes its log about once a second
    rows: list = []
    while time.monotonic() < deadline:
        with sqlite3.connect(pair["db"], timeout=5) as db:
            rows = db.execute(
                f"SELECT result, channel, client_net FROM {table} WHERE client_net = '10.77.251.0/24' "
                "ORDER BY id"
            ).fetchall()
        if len(rows) >= 2:
            break
        time.sleep(0.2)
    assert rows == [("suspended", "api", "10.77.251.0/24"), ("suspended", "page", "10.77.251.0/24")]
