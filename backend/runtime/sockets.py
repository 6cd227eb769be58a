"""Closing open websockets when what admitted them ends: one mechanism for every Linli socket.

A socket is admitted once, at its handshake, for a session (the access token's), a user and a
role over some object (an event's scanner, its coordinator...). When one of those ends, the
socket must end with it, on whichever server process holds it. So every socket joins, on the
channel layer, groups named after what admitted it:

- ``session.<session id>``: the sign-in session whose access token opened the socket;
- ``user.<user id>``: the signed-in user (all their sessions and devices);
- ``device.<device id>``: a registered scanner device, for sockets that name one (the check-in
  domain adds this group to its scanner sockets; the name is built by ``device_group``).

and services that end something call, inside their transaction:

- ``sockets_close_after_commit(group, code)``: every socket in the group closes with ``code``
  (``CLOSE_SESSION_ENDED`` 4401 for a session that ended: logout, refresh-token reuse, account
  disabled or cancelled; ``CLOSE_ACCESS_REVOKED`` 4403 for a device taken away);
- ``sockets_recheck_after_commit(group)``: every socket in the group checks again whether it
  would be admitted now (its session still live, its role still held) and closes with 4401 or
  4403 if not; for a revoked grant, whose effect on a given socket only the socket's domain knows.

The messages go through the channel layer after commit (``backend.runtime.broadcast.publish``),
so with Redis a socket on another daphne process hears them; nothing is announced for a
transaction that rolls back. A socket joins its groups before its authorization is read, so a
revocation committed while it connects is either seen by that read or heard as a message.
``realtime.consumers.LinliConsumer`` implements the socket side (``socket.close`` and
``socket.recheck`` message types).
"""

from __future__ import annotations

from collections.abc import Iterable

from backend.runtime.broadcast import publish, publish_after_commit

CLOSE_SESSION_ENDED = 4401
CLOSE_ACCESS_REVOKED = 4403

CLOSE = "socket.close"
RECHECK = "socket.recheck"


def session_group(session_id: int) -> str:
    return f"session.{int(session_id)}"


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def device_group(device_id: int | str) -> str:
    """``device.<id>``; an id that is not a channel-layer name (``[A-Za-z0-9_.-]``) is refused."""
    text = str(device_id)
    if not text or len(text) > 80 or not all(c.isalnum() or c in "-_." for c in text) or not text.isascii():
        raise ValueError(f"not a device id usable in a group name: {device_id!r}")
    return f"device.{text}"


def sockets_close_after_commit(groups: str | Iterable[str], *, code: int) -> None:
    """After commit, close every socket of ``groups`` with ``code`` (4401 or 4403)."""
    for group in [groups] if isinstance(groups, str) else groups:
        publish_after_commit(group, {"type": CLOSE, "code": int(code)})


def sockets_recheck_after_commit(groups: str | Iterable[str]) -> None:
    """After commit, have every socket of ``groups`` check its session and role again."""
    for group in [groups] if isinstance(groups, str) else groups:
        publish_after_commit(group, {"type": RECHECK})


def sockets_close(groups: str | Iterable[str], *, code: int) -> None:
    """At once (outside a transaction, or when the caller has committed): close every socket of
    ``groups`` with ``code``."""
    for group in [groups] if isinstance(groups, str) else groups:
        publish(group, {"type": CLOSE, "code": int(code)})
