"""Load generators on asyncio, loopback only.

``http_load`` keeps ``connections`` HTTP/1.1 keep-alive connections busy, one request in flight
on each, until ``duration`` has passed or ``max_requests`` requests were started, whichever comes
first. Every request is timed from the write to the last byte of the response body. A failed
request (timeout, connection closed or reset, malformed response) is counted under ``errors`` and
its connection replaced.

``ws_echo_load`` does the same for websockets with the ``websockets`` client: each client sends a
frame and waits for the next frame back.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.harness import percentiles

MAX_REQUESTS = 1_000_000
"""Hard cap on requests (and websocket messages) in one run, whatever the duration."""

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
RequestSpec = tuple[str, str, Headers | None, bytes | str | None]
"""``(method, path, headers, body)``, as returned by a ``make_request(i)`` hook."""


@dataclass
class LoadResult:
    """What one load run measured. Latencies in ms; ``requests`` counts completed responses."""

    requests: int
    duration_s: float
    connections: int
    latencies_ms: array = field(repr=False)
    statuses: dict[int, int]
    errors: dict[str, int]
    bytes_received: int = 0

    def __post_init__(self) -> None:
        p50, p90, p99 = percentiles(self.latencies_ms, (50, 90, 99))
        self.p50_ms, self.p90_ms, self.p99_ms = p50, p90, p99
        self.max_ms = max(self.latencies_ms) if self.latencies_ms else math.nan
        self.mean_ms = sum(self.latencies_ms) / len(self.latencies_ms) if self.latencies_ms else math.nan

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def as_dict(self) -> dict[str, Any]:
        """Figures ready for JSON (rounded; NaN becomes None)."""
        return {
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "connections": self.connections,
            "rps": round(self.rps, 1),
            "p50_ms": _ms(self.p50_ms),
            "p90_ms": _ms(self.p90_ms),
            "p99_ms": _ms(self.p99_ms),
            "max_ms": _ms(self.max_ms),
            "mean_ms": _ms(self.mean_ms),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "non_2xx": self.non_2xx,
            "errors": self.errors_total,
            "error_kinds": dict(sorted(self.errors.items())),
            "bytes_received": self.bytes_received,
        }


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def _loopback_target(target: str | tuple[str, int]) -> tuple[str, int]:
    """``(host, port)`` from ``http://host:port``, ``ws://host:port/...``, ``host:port`` or a tuple."""
    if isinstance(target, tuple):
        host, port = target
    elif "://" in target:
        parts = urlsplit(target)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"need an explicit host and port in {target!r}")
        host, port = parts.hostname, parts.port
    else:
        host, _, port_text = target.rpartition(":")
        port = int(port_text)
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"load generation is loopback only, not {host!r}")
    return host, int(port)


def encode_request(
    method: str, path: str, host: str, headers: Headers | None = None, body: bytes | str | None = None
) -> bytes:
    """One HTTP/1.1 request as bytes. Adds ``Host`` and, with a body, ``Content-Length``."""
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    names = {name.lower() for name, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", host))
    payload = body.encode() if isinstance(body, str) else body or b""
    if (payload or method in ("POST", "PUT", "PATCH")) and "content-length" not in names:
        pairs.append(("Content-Length", str(len(payload))))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in pairs)
    return (head + "\r\n").encode("latin-1") + payload


class ProtocolError(Exception):
    """The server's bytes are not an HTTP/1.x response we can frame."""


async def read_response(reader: asyncio.StreamReader, method: str = "GET") -> tuple[int, int, bool]:
    """Read one response: ``(status, body bytes, connection reusable)``.

    The body is framed by ``Transfer-Encoding: chunked``, else ``Content-Length``, else the end of
    the connection; HEAD, 204 and 304 have none. Interim 1xx responses are skipped.
    """
    status, version, header_block = await _read_head(reader)
    length, chunked, reusable = _framing(header_block, reusable=version == b"HTTP/1.1")
    if method == "HEAD" or status in (204, 304):
        return status, 0, reusable
    if chunked:
        return status, await _read_chunked(reader), reusable
    if length is not None:
        if length:
            await reader.readexactly(length)
        return status, length, reusable
    return status, len(await reader.read()), False


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    """Status, HTTP version and header block of the first final (non-1xx) response head."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        if not version.startswith(b"HTTP/1."):
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        try:
            status = int(rest[:3])
        except ValueError:
            raise ProtocolError(f"bad status line {status_line[:80]!r}") from None
        if not 100 <= status < 200 or status == 101:
            return status, version, header_block


def _framing(header_block: bytes, *, reusable: bool) -> tuple[int | None, bool, bool]:
    """``(content length, chunked, connection reusable)`` from the header lines."""
    length: int | None = None
    chunked = False
    for line in header_block.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:80]!r}")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise ProtocolError(f"bad content-length {value[:40]!r}") from None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection" and b"close" in value.lower():
            reusable = False
        elif name == b"connection" and b"keep-alive" in value.lower():
            reusable = True
    return length, chunked, reusable


async def _read_chunked(reader: asyncio.StreamReader) -> int:
    """Read a chunked body and its trailers; the number of body bytes."""
    received = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return received
        await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
        received += size


class _Run:
    """State shared by the workers of one ``http_load`` call (one event loop, so no locks)."""

    def __init__(self, *, max_requests: int) -> None:
        self.max_requests = max_requests
        self.tickets = 0
        self.deadline = math.inf
        self.latencies = array("d")
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.bytes_received = 0

    def record(self, outcome: tuple[int, int, bool] | str, started: float) -> bool:
        """Count one exchange; whether its connection may carry the next request."""
        if isinstance(outcome, str):
            self.errors[outcome] += 1
            return False
        status, received, reusable = outcome
        self.latencies.append((time.perf_counter() - started) * 1000.0)
        self.statuses[status] += 1
        self.bytes_received += received
        return reusable

    def ticket(self) -> int | None:
        if self.tickets >= self.max_requests:
            return None
        self.tickets += 1
        return self.tickets - 1


async def _connect(host: str, port: int, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with asyncio.timeout(timeout):
        return await asyncio.open_connection(host, port)


async def _reconnect(
    host: str, port: int, timeout: float, run: _Run
) -> tuple[asyncio.StreamReader | None, asyncio.StreamWriter | None]:
    """A new connection, or ``(None, None)`` after a short pause when the server refused."""
    try:
        return await _connect(host, port, timeout)
    except (OSError, TimeoutError):
        run.errors["connect"] += 1
        await asyncio.sleep(min(0.05, max(0.0, run.deadline - time.perf_counter())))
        return None, None


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes, verb: str, timeout: float
) -> tuple[int, int, bool] | str:
    """Send one request and read its response: ``(status, bytes, reusable)``, or the error kind."""
    try:
        async with asyncio.timeout(timeout):
            writer.write(payload)
            await writer.drain()
            return await read_response(reader, verb)
    except TimeoutError:
        return "timeout"
    except (asyncio.IncompleteReadError, ConnectionError):
        return "closed"
    except (ProtocolError, asyncio.LimitOverrunError, ValueError):
        return "protocol"
    except OSError:
        return "os"


async def _join(tasks: list[asyncio.Task], errors: Counter[str], *, timeout: float) -> None:
    """Wait for the workers. Each is bounded by itself; this is a second stop in case something
    hangs anyway. A worker's own exception (a bug in ``make_request``) goes up."""
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        errors["hung"] += len(pending)
        await asyncio.wait(pending)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def http_load(
    url_or_host_port: str | tuple[str, int],
    path: str = "/",
    *,
    connections: int = 64,
    duration: float = 10.0,
    max_requests: int | None = None,
    method: str = "GET",
    headers: Headers | None = None,
    body: bytes | str | None = None,
    make_request: Callable[[int], RequestSpec] | None = None,
    request_timeout: float = 10.0,
    connect_timeout: float = 5.0,
) -> LoadResult:
    """Load ``path`` over ``connections`` keep-alive connections; see the module docstring.

    ``make_request(i)`` (``i`` = 0, 1, 2, ... in start order) returns ``(method, path, headers,
    body)`` for request ``i``, overriding ``method``/``path``/``headers``/``body``. The run stops
    starting requests at ``duration`` seconds or ``min(max_requests, MAX_REQUESTS)`` requests; a
    request in flight then finishes or times out after ``request_timeout``.
    """
    if connections < 1:
        raise ValueError("connections must be at least 1")
    host, port = _loopback_target(url_or_host_port)
    host_header = f"{host}:{port}"
    run = _Run(max_requests=min(max_requests if max_requests is not None else MAX_REQUESTS, MAX_REQUESTS))
    fixed = encode_request(method, path, host_header, headers, body)

    async def worker(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | BaseException) -> None:
        reader, writer = (None, None) if isinstance(conn, BaseException) else conn
        try:
            while time.perf_counter() < run.deadline:
                if writer is None:
                    reader, writer = await _reconnect(host, port, connect_timeout, run)
                    if writer is None:
                        continue
                assert reader is not None
                i = run.ticket()
                if i is None:
                    return
                if make_request is None:
                    verb, payload = method, fixed
                else:
                    verb, req_path, req_headers, req_body = make_request(i)
                    payload = encode_request(verb, req_path, host_header, req_headers, req_body)
                started = time.perf_counter()
                outcome = await _exchange(reader, writer, payload, verb, request_timeout)
                if not run.record(outcome, started):
                    _close(writer)
                    reader = writer = None
        finally:
            _close(writer)

    opened = await asyncio.gather(
        *(_connect(host, port, connect_timeout) for _ in range(connections)), return_exceptions=True
    )
    for conn in opened:
        if isinstance(conn, asyncio.CancelledError):
            raise conn
        if isinstance(conn, BaseException):
            run.errors["connect"] += 1
    started = time.perf_counter()
    run.deadline = started + duration
    tasks = [asyncio.create_task(worker(conn)) for conn in opened]
    await _join(tasks, run.errors, timeout=duration + request_timeout + connect_timeout + 5)
    elapsed = time.perf_counter() - started
    return LoadResult(
        requests=len(run.latencies),
        duration_s=elapsed,
        connections=connections,
        latencies_ms=run.latencies,
        statuses=dict(run.statuses),
        errors=dict(run.errors),
        bytes_received=run.bytes_received,
    )


@dataclass
class WsResult:
    """What one websocket run measured: ``messages`` round trips completed by ``clients``."""

    messages: int
    duration_s: float
    clients: int
    connected: int
    latencies_ms: array = field(repr=False)
    errors: dict[str, int]

    @property
    def msg_per_s(self) -> float:
        return self.messages / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        p50, p90, p99 = percentiles(self.latencies_ms, (50, 90, 99))
        return {
            "messages": self.messages,
            "duration_s": round(self.duration_s, 3),
            "clients": self.clients,
            "connected": self.connected,
            "msg_per_s": round(self.msg_per_s, 1),
            "p50_ms": _ms(p50),
            "p90_ms": _ms(p90),
            "p99_ms": _ms(p99),
            "max_ms": _ms(max(self.latencies_ms)) if self.latencies_ms else None,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(sorted(self.errors.items())),
        }


def _opened_sockets(opened: list[Any], errors: Counter[str], *, refused: tuple[type, ...]) -> list[Any]:
    """The sockets that opened; refusals counted as ``connect`` errors, anything else raised."""
    sockets = []
    for ws in opened:
        if isinstance(ws, asyncio.CancelledError):
            raise ws
        if isinstance(ws, refused):
            errors["connect"] += 1
        elif isinstance(ws, BaseException):
            raise ws
        else:
            sockets.append(ws)
    return sockets


async def ws_echo_load(
    url: str,
    *,
    clients: int = 50,
    duration: float = 10.0,
    max_messages: int | None = None,
    message: str | bytes | Callable[[int], str | bytes] = "ping",
    subprotocols: list[str] | None = None,
    headers: Headers | None = None,
    origin: str | None = None,
    open_timeout: float = 10.0,
    reply_timeout: float = 10.0,
) -> WsResult:
    """``clients`` websockets each send ``message`` (or ``message(i)``) and await the next frame.

    All clients connect first; the clock starts when they have. A client whose socket fails stops
    (counted under ``errors``). Bounded by ``duration`` and ``min(max_messages, MAX_REQUESTS)``.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    _loopback_target(url)
    cap = min(max_messages if max_messages is not None else MAX_REQUESTS, MAX_REQUESTS)
    latencies = array("d")
    errors: Counter[str] = Counter()
    sent = 0
    deadline = math.inf

    async def open_one() -> Any:
        return await connect(
            url,
            subprotocols=subprotocols,  # type: ignore[arg-type]
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            compression=None,
            open_timeout=open_timeout,
            ping_interval=None,
            close_timeout=2,
        )

    async def client(ws: Any) -> None:
        nonlocal sent
        try:
            while time.perf_counter() < deadline and sent < cap:
                i, sent = sent, sent + 1
                frame = message(i) if callable(message) else message
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(reply_timeout):
                        await ws.send(frame)
                        await ws.recv()
                except TimeoutError:
                    errors["timeout"] += 1
                    return
                except ConnectionClosed:
                    errors["closed"] += 1
                    return
                latencies.append((time.perf_counter() - started) * 1000.0)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    opened = await asyncio.gather(*(open_one() for _ in range(clients)), return_exceptions=True)
    sockets = _opened_sockets(opened, errors, refused=(OSError, TimeoutError, InvalidHandshake))
    started = time.perf_counter()
    deadline = started + duration
    tasks = [asyncio.create_task(client(ws)) for ws in sockets]
    if tasks:
        await _join(tasks, errors, timeout=duration + reply_timeout + 5)
    elapsed = time.perf_counter() - started
    return WsResult(
        messages=len(latencies),
        duration_s=elapsed,
        clients=clients,
        connected=len(sockets),
        latencies_ms=latencies,
        errors=dict(errors),
    )
