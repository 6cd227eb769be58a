"""Requests daphne or Twisted refuse before Django runs get the JSON error body, and raw UTF-8
in a request line is served (``backend.runtime.http``). A real daphne process on loopback."""

from __future__ import annotations

import json
import socket

import pytest

from backend.runtime.http import error_bytes, escape_request_line
from bench.harness import Server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


def _raw(server: Server, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Send bytes as they are; the status line, headers and body of the answer."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.decode().partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2 :]
        body = out
    return status, headers, body


@pytest.fixture(scope="module")
def server(django_db_blocker):
    with django_db_blocker.unblock(), Server.linli() as running:
        yield running


def test_raw_utf8_in_a_query_string_is_served(server):
    status, headers, body = _raw(
        server, "GET /api/v1/orgs?q=合唱 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    )
    assert status.startswith(b"HTTP/1.1 200"), (status, body)
    assert headers["content-type"].startswith("application/json")
    assert "items" in json.loads(body)


def test_a_multipart_body_twisted_cannot_parse_is_a_json_400(server):
    payload = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc'
    status, headers, body = _raw(
        server,
        b"POST /api/v1/filings/1/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Accept-Language: en\r\nContent-Type: multipart/form-data\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload),
    )
    assert status.startswith(b"HTTP/1.1 400"), status
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "code": "malformed_request",
        "message": "The request is malformed and cannot be read.",
        "details": {},
    }


def test_a_request_line_that_is_not_http_is_a_json_400(server):
    status, _headers, body = _raw(server, b"GET /api/v1/health HTTP/1.1 extra\r\nHost: x\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["code"] == "malformed_request"


def test_an_invalid_header_is_a_json_400_from_daphne(server):
    status, _headers, body = _raw(
        server,
        b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x00b\r\nConnection: close\r\n\r\n",
    )
    assert status.startswith(b"HTTP/1.1 400"), (status, body)
    assert json.loads(body)["code"] == "malformed_request"


def test_only_the_targets_non_ascii_bytes_are_escaped():
    line = "GET /orgs?q=合 HTTP/1.1".encode()
    assert escape_request_line(line) == b"GET /orgs?q=%E5%90%88 HTTP/1.1"
    assert escape_request_line(b"garbage") == b"garbage"


def test_error_bytes_follow_the_language():
    assert json.loads(error_bytes(400, "zh-CN"))["message"].startswith("请求格式错误")
    assert json.loads(error_bytes(500, "en"))["code"] == "internal_error"
