"""``backend.runtime.fanout``: texts for many sockets, framed once, one write per daphne socket."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from types import SimpleNamespace

from autobahn.twisted.websocket import WebSocketServerFactory

from backend.runtime.fanout import Fanout, daphne_connection

OPEN, CLOSING = 3, 2


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class Protocol:
    """What ``Fanout`` touches of autobahn's websocket protocol under daphne."""

    STATE_OPEN = OPEN

    def __init__(self, factory: WebSocketServerFactory, *, state: int = OPEN) -> None:
        self.factory = factory
        self.state = state
        self._perMessageCompress = None
        self.send_queue: deque = deque()
        self.transport = Transport()
        self.trafficStats = SimpleNamespace(outgoingOctetsWireLevel=0)
        self.prepared: list[bytes] = []

    def sendPreparedMessage(self, message) -> None:
        self.prepared.append(message.payload)


class DaphneServer:
    def __init__(self) -> None:
        self.connections: dict = {}

    async def handle_reply(self, protocol, message):  # pragma: no cover - never reached
        raise AssertionError("the fan-out writes to daphne's sockets itself")


def _socket(server: DaphneServer, factory: WebSocketServerFactory, **kwargs):
    protocol = Protocol(factory, **kwargs)
    server.connections[protocol] = {}
    return protocol, functools.partial(server.handle_reply, protocol)


def _frames(data: bytes) -> list[str]:
    """Unmasked server text frames (payloads under 126 bytes) back to their texts."""
    out = []
    while data:
        assert data[0] == 0x81  # FIN + text
        length = data[1]
        assert length < 126
        out.append(data[2 : 2 + length].decode())
        data = data[2 + length :]
    return out


def test_each_daphne_socket_gets_its_texts_in_order_in_one_write():
    server, factory = DaphneServer(), WebSocketServerFactory()
    (a, send_a), (b, send_b) = _socket(server, factory), _socket(server, factory)
    assert daphne_connection(send_a) == (server, a)
    fanout = Fanout()
    fanout.add([send_a, send_b], '{"seq":1}')
    fanout.add([send_a], '{"seq":2}')
    fanout.add([send_a, send_b], '{"seq":3}')
    asyncio.run(fanout.flush())
    assert [_frames(w) for w in a.transport.writes] == [['{"seq":1}', '{"seq":2}', '{"seq":3}']]
    assert [_frames(w) for w in b.transport.writes] == [['{"seq":1}', '{"seq":3}']]
    assert a.trafficStats.outgoingOctetsWireLevel == len(a.transport.writes[0])
    asyncio.run(fanout.flush())  # sent once: nothing left over
    assert len(a.transport.writes) == 1


def test_closed_and_closing_sockets_are_skipped():
    server, factory = DaphneServer(), WebSocketServerFactory()
    gone, send_gone = _socket(server, factory)
    server.connections[gone]["disconnected"] = True
    closing, send_closing = _socket(server, factory, state=CLOSING)
    forgotten, send_forgotten = _socket(server, factory)
    del server.connections[forgotten]
    fanout = Fanout()
    fanout.add([send_gone, send_closing, send_forgotten], "x")
    asyncio.run(fanout.flush())
    assert not gone.transport.writes and not closing.transport.writes and not forgotten.transport.writes


def test_a_socket_with_frames_queued_in_autobahn_keeps_autobahns_order():
    server, factory = DaphneServer(), WebSocketServerFactory()
    busy, send_busy = _socket(server, factory)
    busy.send_queue.append((b"earlier", False))
    fanout = Fanout()
    fanout.add([send_busy], "one")
    fanout.add([send_busy], "two")
    asyncio.run(fanout.flush())
    assert not busy.transport.writes and busy.prepared == [b"one", b"two"]


def test_sockets_of_another_server_get_asgi_sends_and_a_failing_one_does_not_stop_the_rest():
    server, factory = DaphneServer(), WebSocketServerFactory()
    daphne_socket, send_daphne = _socket(server, factory)
    received: list[dict] = []

    async def other(message: dict) -> None:
        received.append(message)

    async def broken(message: dict) -> None:
        raise RuntimeError("socket gone")

    fanout = Fanout()
    fanout.add([broken, other, send_daphne], "hello")
    asyncio.run(fanout.flush())
    assert received == [{"type": "websocket.send", "text": "hello"}]
    assert [_frames(w) for w in daphne_socket.transport.writes] == [["hello"]]


class TcpTransport(Transport):
    """The parts of Twisted's TCP transport ``send_now`` reads."""

    def __init__(self, sock) -> None:
        super().__init__()
        self.socket = sock
        self.TLS = False
        self.connected = True
        self.disconnecting = False
        self._writeDisconnected = False
        self._tempDataBuffer: list[bytes] = []
        self.dataBuffer = b""
        self.offset = 0


class HalfSocket:
    def __init__(self) -> None:
        self.sent = b""

    def send(self, data: bytes) -> int:
        taken = data[: len(data) // 2]
        self.sent += taken
        return len(taken)


def test_an_idle_tcp_transport_gets_the_bytes_at_once():
    import socket

    from backend.runtime.fanout import send_now

    ours, theirs = socket.socketpair()
    with ours, theirs:
        transport = TcpTransport(ours)
        send_now(transport, b"frame")
        assert theirs.recv(100) == b"frame" and transport.writes == []


def test_what_the_socket_does_not_take_follows_through_twisted_in_order():
    from backend.runtime.fanout import send_now

    sock = HalfSocket()
    transport = TcpTransport(sock)
    send_now(transport, b"0123456789")
    assert sock.sent == b"01234" and transport.writes == [b"56789"]


def test_queued_bytes_tls_or_a_closing_transport_keep_twisteds_order():
    from backend.runtime.fanout import send_now

    for change in (
        {"_tempDataBuffer": [b"earlier"]},
        {"dataBuffer": b"earlier", "offset": 2},
        {"TLS": True},
        {"disconnecting": True},
        {"connected": False},
    ):
        sock = HalfSocket()
        transport = TcpTransport(sock)
        transport.__dict__.update(change)
        send_now(transport, b"later")
        assert sock.sent == b"" and transport.writes == [b"later"], change
