"""The HTTP layer under daphne, made to answer every request with Linli's JSON error body.

Twisted and daphne refuse some requests before Django sees them, with a bare
``HTTP/1.1 400 Bad Request`` (no headers, no body) or daphne's HTML page:

* raw UTF-8 in the request line (``curl "$B/orgs?q=合唱"``, which sends the bytes unencoded):
  here the non-ASCII bytes of the request target are percent-encoded, exactly what a browser or
  ``curl --data-urlencode`` would have sent, and the request goes on to Django
  (``/orgs?q=%E5%90%88%E5%94%B1``);
* a multipart body Twisted's own parser cannot read (a missing or broken boundary), a request
  line or headers that are not HTTP, headers over the size limit: a 400 with
  ``{"code": "malformed_request", ...}``;
* daphne's own error pages (invalid header, application crash or timeout): the same JSON body
  with the status daphne chose.
"""

from __future__ import annotations

import json
import re
from typing import Any

from daphne.http_protocol import HTTPFactory, WebRequest
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

from backend.core.errors import STATUS_ERRORS, DomainError, MalformedRequest
from backend.core.i18n import lang_from_header

_NON_ASCII = re.compile(rb"[\x80-\xff]")


def escape_request_line(line: bytes) -> bytes:
    """``GET /orgs?q=<raw UTF-8> HTTP/1.1`` with the target's non-ASCII bytes percent-encoded."""
    parts = line.split(b" ")
    if len(parts) != 3:
        return line
    method, target, version = parts
    target = _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], target)
    return b" ".join((method, target, version))


def error_bytes(status: int, accept_language: str | None = None) -> bytes:
    error_cls = MalformedRequest if status == 400 else STATUS_ERRORS.get(status, DomainError)
    body = error_cls().body(lang_from_header(accept_language))
    return json.dumps(body, ensure_ascii=False).encode()


class LinliHTTPChannel(HTTPChannel):
    def lineReceived(self, line: bytes) -> None:
        if getattr(self, "_HTTPChannel__first_line", 0) and not line.isascii():
            line = escape_request_line(line)
        super().lineReceived(line)

    def _respondToBadRequestAndDisconnect(self) -> None:
        request = self.requests[-1] if self.requests else None
        headers = getattr(request, "requestHeaders", None)
        lang = headers.getRawHeaders(b"accept-language", [b""])[0].decode("latin-1") if headers else None
        body = error_bytes(400, lang)
        transport: Any = self.transport
        transport.write(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.loseConnection()


class LinliWebRequest(WebRequest):
    def basic_error(self, status: int, status_text: bytes, body: Any) -> None:
        raw = self.getHeader(b"accept-language")
        lang = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        self.handle_reply(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"Content-Type", b"application/json")],
            }
        )
        self.handle_reply({"type": "http.response.body", "body": error_bytes(status, lang)})


class LinliHTTPFactory(HTTPFactory):
    def protocol(self) -> _GenericHTTPChannelProtocol:  # type: ignore[override]
        return _GenericHTTPChannelProtocol(LinliHTTPChannel())

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LinliWebRequest
        return protocol
