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
3. one statement on the event loop (``backend.runtime.loopdb``), shared by every request for the
   shift waiting for it: the shift's counters, its activity's status, which of the volunteers
   hold a sign-up (``active_signups``) and whose sessions are in force (``sessions_in_force``),
   the same tests Django's path runs;
4. a full shift (places and waitlist) is refused at once, ``409 shift_full`` or
   ``already_signed_up`` (``plainly_full``, the very decision of Django's path), rendered by the
   API's own error renderer; an open one is handed to Django, at most as many sign-ups at a
   time as places are left (``SignupGate``), carrying the session the read found in force
   (``accounts.selectors.VOUCHED``: Django's auth then skips its own session query for it);
   every other case (no such shift, an ended session, a busy or unreachable database) goes to
   Django, which decides under its lock.

So the answers are Django's own, status, headers and body (``tests/volunteers/
test_signup_fastpath.py`` compares two servers, with and without the gate). Nothing is written
here: a refusal changes nothing. ``LINLI_SIGNUP_FAST_PATH=0`` turns the gate off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import weakref
from collections import deque
from typing import Any

from django.conf import settings
from django.db.models import CharField, F, IntegerField, QuerySet, Value

from backend.accounts.selectors import VOUCHED, sessions_in_force
from backend.accounts.tokens import access_token_decode
from backend.core.db import PreparedValues
from backend.core.errors import DomainError
from backend.core.i18n import request_lang
from backend.runtime.fastpath import FastPath, empty_body, replaying, response_messages
from backend.runtime.loopdb import Limits, LoopReaders, compiled_in_thread
from backend.volunteers.models import Activity, Shift, Signup
from backend.volunteers.services.signups import active_signups, plainly_full

log = logging.getLogger("linli.volunteers.fastpath")

PREFIX = "/api/v1/shifts/"
GATE_READ = "linli.gate_read"
"""Scope key of a request the gate read open and handed on: the shift id (the view then skips
its own unlocked pre-check, which the gate has just made)."""
GATE_EXPECT = "linli.gate_expect"
"""Scope key of the status the gate counted an admitted sign-up for: ``confirmed`` (one of the
places its read found free) or ``waitlisted`` (a waitlist spot). Django's path writes the sign-up
with it and takes the counter last (``services.signups._signup_create_locked``)."""
_PATH = re.compile(r"/api/v1/shifts/([1-9][0-9]{0,17})/signups")

BATCH = 32
"""Volunteers one read answers for: the requests for a shift that arrive while a read of it is
under way wait for the next one, which answers up to ``BATCH`` of them at once."""


def _batch(shift_id: Any, **slots: Any) -> QuerySet[Any]:
    """One statement, so one snapshot: the shift's counters and its activity's status (kind 0),
    which of ``BATCH`` volunteers hold a sign-up for it (kind 1: user id), and which of ``BATCH``
    sessions are in force (kind 2: session id, user id). Unused slots hold 0, no row's id."""
    users = [slots[f"u{i}"] for i in range(BATCH)]
    sessions = [slots[f"s{i}"] for i in range(BATCH)]
    columns = ("kind", "a", "b", "c", "d", "e")
    zero, blank = Value(0, output_field=IntegerField()), Value("", output_field=CharField())
    shift = (
        Shift.objects.filter(pk=shift_id)
        .annotate(kind=zero, a=F("taken"), b=F("capacity"), c=F("waitlisted"), d=F("waitlist_size"))
        .annotate(e=F("activity__status"))
        .order_by()
        .values_list(*columns)
    )
    held = (
        active_signups(shift_id=shift_id, user_id__in=users)
        .annotate(kind=Value(1, output_field=IntegerField()), a=F("user_id"), b=zero, c=zero, d=zero, e=blank)
        .order_by()
        .values_list(*columns)
    )
    live = (
        sessions_in_force(pk__in=sessions)
        .annotate(
            kind=Value(2, output_field=IntegerField()), a=F("id"), b=F("user_id"), c=zero, d=zero, e=blank
        )
        .order_by()
        .values_list(*columns)
    )
    return shift.union(held, live, all=True)


_gate = PreparedValues(_batch, "shift_id", *[f"u{i}" for i in range(BATCH)], *[f"s{i}" for i in range(BATCH)])
# A burst's requests arrive together: a few connections per event loop answer them in turn.
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


ADMIT = "admit"
CONFIRMED, WAITLISTED = Signup.Status.CONFIRMED.value, Signup.Status.WAITLISTED.value


class _Ask:
    """One request waiting for the gate's verdict: a refusal, ``ADMIT`` (Django answers, counted
    among the shift's running sign-ups) or ``None`` (Django answers, not counted)."""

    __slots__ = ("expect", "read_at", "session_id", "user_id", "verdict")

    def __init__(self, user_id: int, session_id: int) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.read_at: float | None = None  # when the read that admitted it began (monotonic)
        self.expect: str | None = None  # admitted for a place (confirmed) or a waitlist spot
        self.verdict: asyncio.Future[DomainError | str | None] = asyncio.get_running_loop().create_future()

    def answer(self, verdict: DomainError | str | None) -> bool:
        if self.verdict.done():  # it waited too long and went on
            return False
        self.verdict.set_result(verdict)
        return True


class _Shift:
    """The gate's state for one shift on one event loop: sign-ups handed to Django and not yet
    answered (``running``), requests waiting for the next read (``pending``) and requests read
    open for which there was no room (``parked``, until one of the running ones ends)."""

    __slots__ = ("parked", "pending", "places", "reading", "room", "running", "running_places")

    def __init__(self) -> None:
        self.running = 0
        self.running_places = 0  # of them, counted for a place (the others for a waitlist spot)
        self.room: int | None = None  # places and waitlist spots left, as last read
        self.places = 0  # of them, places
        self.pending: deque[_Ask] = deque()
        self.parked: deque[_Ask] = deque()
        self.reading = False

    def full_while_running(self) -> bool:
        """No room by the last read, and sign-ups running: a request waits for one of them to
        end (then it is read), without a read now that would only park it."""
        return bool(self.running) and self.room is not None and self.running >= self.room

    def idle(self) -> bool:
        return not (self.running or self.pending or self.parked or self.reading)


SENT_KEPT = 64
"""Refusals kept by the headers they answer (``SignupGate.refuse``): past this many the lot is
dropped, so a client sending a new ``Accept-Language`` each time cannot grow it."""


@functools.lru_cache(maxsize=4)
def _read_from(proxy: tuple[str, str] | None) -> frozenset[bytes]:
    """The request headers a refusal's rendering reads, for a ``SECURE_PROXY_SSL_HEADER``."""
    names = {b"accept-language"}
    if proxy:
        names.add(proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode("latin1"))
    return frozenset(names)


def _as_sent(scope: dict[str, Any]) -> tuple[Any, ...]:
    """What a refusal's rendering reads from the request as the client sent it: the scheme and
    every ``Accept-Language`` header, and the proxy's scheme header that Django's ``is_secure``
    reads (``SECURE_PROXY_SSL_HEADER``), if any."""
    read = _read_from(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
    return (scope.get("scheme"), *[(n, v) for n, v in scope.get("headers", ()) if n in read])


_shifts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Shift]] = weakref.WeakKeyDictionary()
MAX_WAIT = 10.0
"""Seconds a request waits at the gate at most; then Django answers it whatever the count."""


class SignupGate(FastPath):
    """ASGI app for the sign-up path; every other request goes to ``fallback``.

    Admission: a burst's requests arrive together, before any of them has taken a place, so the
    first read finds the shift open for all of them. The gate therefore hands Django at most as
    many sign-ups for a shift as it has places and waitlist spots left; the others are parked on
    the event loop until one of those ends, and read again: by then the shift is usually full
    and they are refused at once. Reads are shared: one statement answers every request for the
    shift that waits for it (up to ``BATCH``). Django's locked path still decides every place;
    the gate only keeps the requests that cannot get one from queueing for the write lock.
    The count is each process's own: with several daphne processes each admits up to the places
    left, which costs a few refusals under the lock and never a place."""

    prefixes = (PREFIX,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rendered: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
        self.sent: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}

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
        shifts = _shifts.setdefault(asyncio.get_running_loop(), {})
        state = shifts.setdefault(shift_id, _Shift())
        ask = _Ask(claims.user_id, claims.session_id)
        (state.parked if state.full_while_running() else state.pending).append(ask)
        if state.pending and not state.reading:
            state.reading = True
            asyncio.get_running_loop().create_task(self.read(shift_id, state))
        try:
            verdict = await asyncio.wait_for(ask.verdict, MAX_WAIT)
        except TimeoutError:
            verdict = ADMIT  # counted: it runs like any admitted sign-up, for whatever is left
            state.running += 1
        except asyncio.CancelledError:  # the server gave up on the request while it waited
            if ask.verdict.done() and not ask.verdict.cancelled() and ask.verdict.result() == ADMIT:
                self.ended(shifts, shift_id, state, ok=False, place=ask.expect == CONFIRMED)
            raise
        if isinstance(verdict, DomainError):
            if await self.refuse(scope, verdict, send):
                self._forget_if_idle(shifts, shift_id, state)
                return
            verdict = None  # Django answers (its HTTPS redirect)
        if verdict == ADMIT:
            admitted = {**scope, GATE_READ: shift_id, GATE_EXPECT: ask.expect}
            if ask.read_at is not None:  # Django's auth takes the session as read (accounts.selectors)
                admitted[VOUCHED] = (token, ask.session_id, ask.user_id, ask.read_at)
            await self.hand_over(
                shifts, shift_id, state, admitted, replay, send, place=ask.expect == CONFIRMED
            )
        else:
            self._forget_if_idle(shifts, shift_id, state)
            await self.fallback(scope, replay, send)

    async def refuse(self, scope: dict[str, Any], verdict: DomainError, send: Any) -> bool:
        """Django's refusal, rendered by the API's renderer and the security middleware; ``False``
        when Django must answer instead (its HTTPS redirect).

        A burst refuses ~170 volunteers with the same two answers. A refusal without details
        depends only on the request's language and scheme, so once rendered it is kept and sent
        again: per language and scheme (rendering each was 8 % of the server's CPU in
        ``bench/signup_burst``, py-spy, PostgreSQL), and per the headers they are read from
        (``_as_sent``), so that a refusal sent again needs no Django request either (building
        one was 29 µs of the ~230 µs a refusal costs the event loop)."""
        sent = None if verdict.details else (type(verdict), verdict.error_code, _as_sent(scope))
        rendered = self.sent.get(sent) if sent is not None else None
        if rendered is None:
            request = self.request(scope)
            if request is None:
                return False
            key = (type(verdict), verdict.error_code, request_lang(request), request.is_secure())
            rendered = None if verdict.details else self.rendered.get(key)
            if rendered is None:
                from api.errors import render
                from api.main import api

                response = self.security.process_response(request, render(api, request, verdict))
                rendered = response_messages(response)
                if not verdict.details:
                    self.rendered[key] = rendered
            if sent is not None:
                if len(self.sent) >= SENT_KEPT:  # the headers are the client's: keep a few
                    self.sent.clear()
                self.sent[sent] = rendered
        for message in rendered:
            await send(dict(message))
        return True

    @staticmethod
    def _forget_if_idle(shifts: dict[int, _Shift], shift_id: int, state: _Shift) -> None:
        if state.idle() and shifts.get(shift_id) is state:
            del shifts[shift_id]

    async def hand_over(
        self,
        shifts: dict[int, _Shift],
        shift_id: int,
        state: _Shift,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        *,
        place: bool,
    ) -> None:
        """Django answers an admitted sign-up; when it ends, parked requests may be read again."""
        statuses: list[int] = []

        async def watched(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        try:
            await self.fallback(scope, receive, watched)
        finally:
            self.ended(shifts, shift_id, state, ok=statuses == [201], place=place)

    def ended(
        self, shifts: dict[int, _Shift], shift_id: int, state: _Shift, *, ok: bool, place: bool
    ) -> None:
        """An admitted sign-up ended (``ok``: it took a place; ``place``: it was counted for one)."""
        state.running -= 1
        state.running_places -= place
        # A 201 took a place: one fewer running, one fewer left, nobody parked can go. Any other
        # answer may have left a place free: one parked request is read again. Once nothing
        # runs, every parked request is (one read: refused, or admitted in turn).
        if not state.running:
            state.pending.extend(state.parked)
            state.parked.clear()
        elif not ok and state.parked:
            state.pending.append(state.parked.popleft())
        if state.pending and not state.reading:
            state.reading = True
            asyncio.get_running_loop().create_task(self.read(shift_id, state))
        self._forget_if_idle(shifts, shift_id, state)

    @classmethod
    async def read(cls, shift_id: int, state: _Shift) -> None:
        """Answer the shift's pending requests, ``BATCH`` per statement, until none is left."""
        asks: list[_Ask] = []
        try:
            if not _gate.compiled():
                await compiled_in_thread(lambda: _gate.sql(0, *[0] * (2 * BATCH)))
            while state.pending:
                if state.full_while_running():
                    state.parked.extend(state.pending)
                    state.pending.clear()
                    break
                asks = [state.pending.popleft() for _ in range(min(BATCH, len(state.pending)))]
                asks = [ask for ask in asks if not ask.verdict.done()]
                if asks:
                    read_at = time.monotonic()
                    cls.decide(state, asks, await cls.fetch(shift_id, asks), read_at=read_at)
        except Exception as exc:  # a busy or restarting database: Django answers, with its retries
            log.warning("sign-up gate: %s; requests go to Django", exc)
            for ask in [*asks, *state.pending]:
                ask.answer(None)
            state.pending.clear()
        finally:
            state.reading = False

    @staticmethod
    async def fetch(shift_id: int, asks: list[_Ask]) -> list[tuple[Any, ...]]:
        users = [ask.user_id for ask in asks] + [0] * (BATCH - len(asks))
        sessions = [ask.session_id for ask in asks] + [0] * (BATCH - len(asks))
        sql, params = _gate.sql(shift_id, *users, *sessions)
        return await readers.fetchall(sql, params)

    @staticmethod
    def decide(state: _Shift, asks: list[_Ask], rows: list[tuple[Any, ...]], *, read_at: float) -> None:
        shift = next((row[1:] for row in rows if row[0] == 0), None)
        held = {row[1] for row in rows if row[0] == 1}
        live = {(row[1], row[2]) for row in rows if row[0] == 2}
        for ask in asks:
            if shift is None or (ask.session_id, ask.user_id) not in live:
                ask.answer(None)  # no such shift, an ended session: Django's answer
                continue
            refusal = plainly_full((*shift, ask.user_id in held))
            if refusal is not None:
                ask.answer(refusal)
                continue
            taken, capacity, waitlisted, waitlist_size, status = shift
            state.places = max(0, capacity - taken)
            state.room = state.places + max(0, waitlist_size - waitlisted)
            if status != Activity.Status.PUBLISHED:
                ask.answer(None)
            elif state.running < state.room:
                # Places first, in the order the read answers: a sign-up still running was
                # counted for a place or a spot its read found free, and holds it until it ends.
                # One that has committed but not yet ended is counted twice (in ``taken`` too),
                # which only makes the count short, never long.
                place = state.running_places < state.places
                ask.read_at = read_at
                ask.expect = CONFIRMED if place else WAITLISTED
                if ask.answer(ADMIT):
                    state.running += 1
                    state.running_places += place
            else:
                state.parked.append(ask)
