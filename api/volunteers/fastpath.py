"""The sign-up gate: ``POST /api/v1/shifts/{id}/signups`` refused on the event loop when the shift is full.

When a popular activity opens, hundreds of volunteers tap "sign up" in the same second, and most
of them meet a full shift: in ``bench/signup_burst`` 170 of every 200. Through Django each of
those refusals paid the whole request cycle (its lane trip, the middleware chain, URL
resolution, ninja's parsing, the token's session query, the gate query) and queued behind the
30 that take a place. ``backend.asgi`` therefore routes this one path here first:

1. the route (``POST``, a positive shift id, no body, a bearer token, no ``Idempotency-Key``);
   anything else goes to the lean Django handler untouched;
2. the token's signature and expiry are checked in the process (``access_token_decode``); a
   token that fails goes to Django, which gives its 401;
3. one statement on the event loop (``backend.runtime.loopdb``): the shift's counters, its
   activity's status, whether this volunteer holds a sign-up (``shift_gate``) and whether the
   token's session still signs them in (``live_sessions``), the same tests Django's path runs;
4. a full shift (places and waitlist) is refused at once, ``409 shift_full`` or
   ``already_signed_up`` (``plainly_full``, the very decision of Django's path), rendered by the
   API's own error renderer; every other case (a free place, no such shift, an ended session, a
   busy or unreachable database) goes to Django, which decides under its lock.

So the answers are Django's own, status, headers and body (``tests/volunteers/
test_signup_fastpath.py`` compares two servers, with and without the gate). Nothing is written
here: a refusal changes nothing. ``LINLI_SIGNUP_FAST_PATH=0`` turns the gate off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections import deque
from typing import Any

from django.db.models import Exists

from backend.accounts.selectors import live_sessions
from backend.accounts.tokens import access_token_decode
from backend.core.db import PreparedValues
from backend.core.errors import DomainError
from backend.runtime.fastpath import FastPath, empty_body, replaying
from backend.runtime.loopdb import Limits, LoopReaders, compiled_in_thread
from backend.volunteers.services.signups import GATE_FIELDS, plainly_full, shift_gate

log = logging.getLogger("linli.volunteers.fastpath")

PREFIX = "/api/v1/shifts/"
GATE_READ = "linli.gate_read"
"""Scope key of a request the gate read open and handed on: the shift id (the view then skips
its own unlocked pre-check, which the gate has just made)."""
_PATH = re.compile(r"/api/v1/shifts/([1-9][0-9]{0,17})/signups")

_gate = PreparedValues(
    lambda shift_id, user_id, session_id: (
        shift_gate(shift_id=shift_id, user_id=user_id)
        .annotate(live=Exists(live_sessions(session_id=session_id, user_id=user_id)))
        .values_list(*GATE_FIELDS, "live")[:1]
    ),
    "shift_id",
    "user_id",
    "session_id",
)
# A burst's refusals arrive together: a few connections per event loop answer them in turn.
readers = LoopReaders(lambda: Limits(busy_timeout=0.05, conn_age=300.0, connections=4))


def route(scope: dict[str, Any]) -> tuple[int, str] | None:
    """(shift id, bearer token) when the gate may answer this request, else ``None``."""
    if scope.get("method") != "POST" or not FastPath.plain(scope):
        return None
    found = _PATH.fullmatch(scope.get("path", ""))
    if found is None:
        return None
    token = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            if token is not None:
                return None  # two of them: Django joins them, and refuses
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() != "bearer" or not token or " " in token:
                return None
        elif name == b"idempotency-key":
            return None  # stored and replayed by Django's idempotency middleware
    if token is None:
        return None
    return int(found.group(1)), token


class _Admission:
    """One shift's sign-ups handed to Django and not yet answered, and the requests waiting for
    one of them to end (futures, first come first served)."""

    __slots__ = ("running", "waiting")

    def __init__(self) -> None:
        self.running = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    def wake(self, everyone: bool = False) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                if not everyone:
                    return


_admissions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Admission]] = (
    weakref.WeakKeyDictionary()
)
MAX_WAIT = 10.0
"""Seconds a request waits at the gate at most; then Django answers it whatever the count."""


class SignupGate(FastPath):
    """ASGI app for the sign-up path; every other request goes to ``fallback``.

    Admission: a burst's requests arrive together, before any of them has taken a place, so the
    first read finds the shift open for all of them. The gate therefore hands Django at most as
    many sign-ups for a shift as it has places and waitlist spots left (``remaining``); the others
    wait here, on the event loop, until one of those ends, and read again: by then the shift is
    usually full and they are refused at once. Django's locked path still decides every place;
    the gate only keeps the requests that cannot get one from queueing for the write lock."""

    prefixes = (PREFIX,)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        found = route(scope)
        if found is None:
            return await self.fallback(scope, receive, send)
        first = await receive()
        replay = replaying(first, receive)
        shift_id, token = found
        claims = access_token_decode(token)
        if not empty_body(first) or claims is None or not readers.supported():
            return await self.fallback(scope, replay, send)
        shifts = _admissions.setdefault(asyncio.get_running_loop(), {})
        read = await self.admit(shifts, shift_id, claims.user_id, claims.session_id)
        if isinstance(read, DomainError):
            request = self.request(scope)
            if request is not None:
                from api.errors import render
                from api.main import api

                await self.respond(request, render(api, request, read), send)
                if (admission := shifts.get(shift_id)) is not None:
                    admission.wake(everyone=True)  # full: whoever waits is refused too
                return
            read = None
        if read is not None:
            scope = {**scope, GATE_READ: shift_id}
        await self.hand_over(shifts, shift_id, scope, replay, send)

    async def admit(
        self, shifts: dict[int, _Admission], shift_id: int, user_id: int, session_id: int
    ) -> DomainError | int | None:
        """Read until the shift is full (the refusal), or open with room for one more running
        sign-up (the places left), or Django must answer (``None``); at most ``MAX_WAIT``."""
        deadline = time.monotonic() + MAX_WAIT
        while True:
            read = await self.read(shift_id, user_id, session_id)
            if read is None or isinstance(read, DomainError):
                return read
            admission = shifts.setdefault(shift_id, _Admission())
            if admission.running < read or time.monotonic() >= deadline:
                return read
            waiter = asyncio.get_running_loop().create_future()
            admission.waiting.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))

    async def hand_over(
        self, shifts: dict[int, _Admission], shift_id: int, scope: dict[str, Any], receive: Any, send: Any
    ) -> None:
        """Django answers, counted among the shift's running sign-ups."""
        admission = shifts.setdefault(shift_id, _Admission())
        admission.running += 1
        statuses: list[int] = []

        async def watched(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        try:
            await self.fallback(scope, receive, watched)
        finally:
            admission.running -= 1
            # A 201 took a place: one fewer running, one fewer left, nobody new can go. Anything
            # else may have left a place free; and once nothing runs, someone must read again.
            if statuses != [201] or not admission.running:
                admission.wake()
            if not admission.running and not admission.waiting:
                shifts.pop(shift_id, None)

    @staticmethod
    async def read(shift_id: int, user_id: int, session_id: int) -> DomainError | int | None:
        """The refusal for this volunteer and shift; else the places and waitlist spots left;
        ``None`` when Django must answer (no such shift, an ended session, a database error)."""
        if not _gate.compiled():
            await compiled_in_thread(lambda: _gate.sql(0, 0, 0))
        try:
            _names, row = await readers.fetchone(*_gate.sql(shift_id, user_id, session_id))
        except Exception as exc:  # busy, restarting: Django's path has its own retries and answers
            log.warning("sign-up gate: %s; the request goes to Django", exc)
            return None
        if row is None or not row[-1]:
            return None
        refusal = plainly_full(row[:-1])
        if refusal is not None:
            return refusal
        taken, capacity, waitlisted, waitlist_size = row[:4]
        return max(0, capacity - taken) + max(0, waitlist_size - waitlisted)
