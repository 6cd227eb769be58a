"""Streamed responses: a body produced chunk by chunk, each chunk's database work done when the
client is ready for it, never the whole body in memory.

``streamed_response(request, chunks)`` takes a synchronous iterator of ``bytes`` whose ``next()``
may query the database. Under ASGI (daphne) the iterator is driven from the event loop, one
``next()`` per chunk in the request's thread-sensitive worker (the thread that ran the view, so
the same database connection): Django would otherwise drain a synchronous iterator into a list
before sending the first byte. Under WSGI (the test client, ``manage.py runserver``) the iterator
is handed over as it is.

``gzipped(chunks)`` compresses a chunk stream on the fly (one ``zlib`` stream, ``Content-Encoding:
gzip``) for clients that said they accept it: JSON with many repeated keys shrinks about 3 ×.
Level 1: measured on the 30,000-pass offline bundle (3.4 MB), level 1 takes ~25 ms and gives
1.2 MB; level 6 takes ~3 × longer for 8 % less.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

GZIP_LEVEL = 1
_DONE = object()


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether the client accepts ``Content-Encoding: gzip`` (and did not refuse it with q=0)."""
    for item in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def gzipped(chunks: Iterator[bytes], *, level: int = GZIP_LEVEL) -> Iterator[bytes]:
    """The gzip stream of ``chunks``, one compressed piece per input chunk that yields output."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def _next_or_done(chunks: Iterator[bytes]) -> object:
    return next(chunks, _DONE)


async def _drive(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    step = sync_to_async(_next_or_done, thread_sensitive=True)
    try:
        while True:
            chunk = await step(chunks)
            if chunk is _DONE:
                return
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()


def streamed_response(
    request: HttpRequest,
    chunks: Iterator[bytes],
    *,
    content_type: str = "application/json",
    gzip: bool = False,
) -> StreamingHttpResponse:
    """A response whose body is ``chunks`` (gzipped when ``gzip``), streamed as described above."""
    body = gzipped(chunks) if gzip else chunks
    content: Iterator[bytes] | AsyncIterator[bytes] = (
        _drive(body) if isinstance(request, ASGIRequest) else body
    )
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Vary"] = "Accept-Encoding"
    if gzip:
        response["Content-Encoding"] = "gzip"
    return response
