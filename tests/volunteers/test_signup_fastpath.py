"""The sign-up gate (``api.volunteers.fastpath``): refusals for a full shift on the event loop.

In process: which requests it takes, and its admission (no more sign-ups handed to Django for a
shift than it has places left; the rest wait and are refused once it is full).
Through daphne: two real servers on one database, one with the gate and one without it
(``LINLI_SIGNUP_FAST_PATH=0``), give every kind of answer with the same status, headers and
body; and a burst through the gate never overbooks.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from api.volunteers import fastpath
from api.volunteers.fastpath import SignupGate, route
from bench.harness import Server, django_command
from tests.support.asgi import http_scope

# --- which requests the gate takes ----------------------------------------------------------------


def _scope(path="/api/v1/shifts/12/signups", method="POST", headers=None, **extra) -> dict:
    return http_scope(path, method, headers, **extra)


BEARER = {"Authorization": "Bearer abc.def.ghi"}


def test_route_takes_a_bearer_sign_up_and_nothing_else():
    assert route(_scope(headers=BEARER)) == (12, "abc.def.ghi")
    assert route(_scope(headers={"Authorization": "bearer abc"})) == (12, "abc")
    refused = [
        _scope(method="GET", headers=BEARER),
        _scope(method="DELETE", headers=BEARER),
        _scope("/api/v1/shifts/12/signups/", headers=BEARER),
        _scope("/api/v1/shifts/012/signups", headers=BEARER),
        _scope("/api/v1/shifts/0/signups", headers=BEARER),
        _scope("/api/v1/shifts/1234567890123456789/signups", headers=BEARER),
        _scope("/api/v1/shifts/12/team-signups", headers=BEARER),
        _scope("/api/v1/shifts/x/signups", headers=BEARER),
        _scope(),  # no token: Django's 401
        _scope(headers={"Authorization": "Basic abc"}),
        _scope(headers={"Authorization": "Bearer "}),
        _scope(headers={"Authorization": "Bearer a b"}),
        _scope(headers={**BEARER, "Idempotency-Key": "k1"}),  # stored and replayed by Django
        _scope(headers=BEARER, root_path="/linli"),
    ]
    twice = _scope(headers=BEARER)
    twice["headers"].append((b"authorization", b"Bearer other"))
    refused.append(twice)
    assert [route(scope) for scope in refused] == [None] * len(refused)


class _Django:
    """Stands in for the lean Django handler: records what it is handed, answers when told."""

    def __init__(self) -> None:
        self.handed: list[bytes] = []
        self.read_open: list[object] = []
        self.expected: list[object] = []
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        message = await receive()
        self.handed.append(message.get("body", b""))
        self.read_open.append(scope.get(fastpath.GATE_READ))
        self.expected.append(scope.get(fastpath.GATE_EXPECT))
        await self.release.wait()
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})


def _on_a_loop(steps):
    """``await steps()`` on a fresh event loop, then close the loop's gate connections and the
    helper thread's Django connection."""

    async def go():
        try:
            return await steps()
        finally:
            await fastpath.readers.aclose()
            await sync_to_async(connections.close_all)()

    return asyncio.run(go())


def _gate(shift, *, answering: bool):
    """The gate for ``shift``'s sign-up path, in front of a stand-in Django (answering at once)."""
    django = _Django()
    if answering:
        django.release.set()
    return SignupGate(fallback=django), django, f"/api/v1/shifts/{shift.pk}/signups"


def _signing_up(path: str, token: str, **headers: str) -> dict:
    return _scope(path, headers={"Authorization": f"Bearer {token}", **headers})


async def _call(app, scope, body=b""):
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


@pytest.mark.django_db(transaction=True)
def test_gate_hands_django_no_more_than_the_places_left_and_refuses_the_rest(volunteer_pool, monkeypatch):
    """Six volunteers at once for one place and one waitlist spot: two go to Django, four wait;
    once the two have taken the places, the four are refused at the gate with Django's body.
    Reads are shared: one for the six, then at most one as each of the two ends. A seventh
    arriving while the two run waits with the four without a read of its own."""
    shift, tokens = volunteer_pool(capacity=1, waitlist=1, volunteers=7)
    reads = []
    fetch = SignupGate.fetch

    async def counted(shift_id, asks):
        reads.append(len(asks))
        return await fetch(shift_id, asks)

    monkeypatch.setattr(SignupGate, "fetch", staticmethod(counted))
    gate, django, path = _gate(shift, answering=False)

    def sign_up(token):
        return asyncio.create_task(_call(gate, _signing_up(path, token, **{"Accept-Language": "en"})))

    async def burst():
        calls = [sign_up(t) for t in tokens[:6]]
        for _ in range(50):
            await asyncio.sleep(0.01)
            if len(django.handed) == 2:
                break
        handed_at_once = len(django.handed)
        calls.append(sign_up(tokens[6]))
        await asyncio.sleep(0.05)
        reads_before_release = len(reads)
        await sync_to_async(_take_places)(shift.pk)  # what Django's two sign-ups commit
        django.release.set()
        return handed_at_once, reads_before_release, await asyncio.gather(*calls)

    handed_at_once, reads_before_release, answers = _on_a_loop(burst)
    assert handed_at_once == 2 and reads_before_release == 1
    assert django.handed == [b"", b""]  # the body the gate read went on with the request
    assert django.read_open == [shift.pk, shift.pk]  # the view skips its own pre-check
    assert django.expected == ["confirmed", "waitlisted"]  # the place first, then the spot
    assert reads[0] == 6 and sum(reads[1:]) == 5 and len(reads) <= 3  # volunteers per read
    assert sorted(status for status, _ in answers) == [299, 299, 409, 409, 409, 409, 409]
    refused = [json.loads(body) for status, body in answers if status == 409]
    assert {r["code"] for r in refused} == {"shift_full"}
    assert refused[0]["message"].startswith("This shift is full")


@pytest.mark.django_db(transaction=True)
def test_a_refusal_sent_again_is_the_one_for_its_language_and_scheme(volunteer_pool, settings):
    """Refusals are kept by the headers they were rendered from: sent again without building
    Django's request, never to a request in another language or scheme, and no more than
    ``SENT_KEPT`` of them."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = False
    shift, tokens = volunteer_pool(capacity=0, waitlist=0, volunteers=1)
    gate, _django, path = _gate(shift, answering=True)
    built = []
    request = gate.request

    def counted(scope):
        built.append(scope)
        return request(scope)

    gate.request = counted

    async def answers(*asked):
        sent = []
        for headers in asked:
            scope = _signing_up(path, tokens[0], **headers)
            messages = []

            async def send(message, messages=messages):
                messages.append(message)

            await gate(scope, _body(), send)
            sent.append((dict(messages[0]["headers"]), json.loads(messages[1]["body"])))
        return sent

    en = {"Accept-Language": "en"}
    https = {"Accept-Language": "en", "X-Forwarded-Proto": "https"}
    first, again, secure, chinese, also_english = _on_a_loop(
        lambda: answers(en, en, https, {"Accept-Language": "zh-CN"}, {"Accept-Language": "en-GB"})
    )
    assert first == again and len(built) == 4  # the second "en" was sent as kept
    assert first[1]["message"].startswith("This shift is full")
    assert b"Strict-Transport-Security" not in first[0] and b"Strict-Transport-Security" in secure[0]
    assert chinese[1]["message"].startswith("该班次")
    assert also_english == first  # another header, the same language: rendered once, looked up
    many = [{"Accept-Language": f"en, x-{i}"} for i in range(fastpath.SENT_KEPT + 10)]
    _on_a_loop(lambda: answers(*many))
    assert 0 < len(gate.sent) <= fastpath.SENT_KEPT


def _body():
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


def _take_places(shift_id: int) -> None:
    from backend.volunteers.models import Shift

    shift = Shift.objects.get(pk=shift_id)
    Shift.objects.filter(pk=shift_id).update(taken=shift.capacity, waitlisted=shift.waitlist_size)


@pytest.mark.django_db(transaction=True)
def test_gate_sends_a_full_shift_to_django_when_the_session_has_ended(volunteer_pool):
    from backend.accounts.models import AuthSession
    from backend.accounts.tokens import access_token_decode

    shift, tokens = volunteer_pool(capacity=0, waitlist=0, volunteers=2)
    ended = access_token_decode(tokens[1]).session_id
    AuthSession.objects.filter(pk=ended).update(revoked_at="2026-01-01T00:00:00Z")
    gate, django, path = _gate(shift, answering=True)

    async def both():
        return [await _call(gate, _signing_up(path, t)) for t in tokens]

    live, revoked = _on_a_loop(both)
    assert live[0] == 409 and json.loads(live[1])["code"] == "shift_full"
    assert revoked == (299, b"django")  # Django gives its 401
    assert django.read_open == [None] and django.expected == [None]


@pytest.fixture
def volunteer_pool():
    """``make(capacity, waitlist, volunteers)``: a published shift and volunteers' access tokens."""
    from datetime import date, timedelta

    from backend.accounts.models import AuthSession
    from backend.accounts.tokens import access_token_issue
    from tests.volunteers import factories as vf

    def make(*, capacity: int, waitlist: int, volunteers: int):
        shift = vf.shift(capacity=capacity, waitlist_size=waitlist)
        tokens = []
        for i in range(volunteers):
            user = vf.volunteer(birth=date(1990, 5, 1) + timedelta(days=i))
            session = AuthSession.objects.create(user=user, method="test")
            tokens.append(access_token_issue(user_id=user.pk, session_id=session.pk)[0])
        return shift, tokens

    return make


# --- through daphne: the same answers with and without the gate -----------------------------------

REVOKED = 14  # the volunteer whose session the first test ends
SEED = "seed(shifts=4, volunteers=40, capacity=2, waitlist=1, out=os.environ['LINLI_GATE_SEED'])"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    shared = tmp_path_factory.mktemp("gate")
    seed_file = shared / "seed.json"
    common = {
        "DATABASE_URL": f"sqlite:///{shared / 'db.sqlite3'}",
        "LINLI_MEDIA_ROOT": str(shared / "media"),
        "LINLI_GATE_SEED": str(seed_file),
        "REDIS_URL": "",
    }
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        django_command("bench.signup_burst", SEED),
    ]
    pid = os.getpid()
    with (
        Server.linli(prepare=prepare, env={**common, "LINLI_REDIS_PREFIX": f"linli-gate-fast-{pid}"}) as fast,
        Server.linli(
            prepare=[],
            env={**common, "LINLI_REDIS_PREFIX": f"linli-gate-django-{pid}", "LINLI_SIGNUP_FAST_PATH": "0"},
        ) as django,
    ):
        yield {"fast": fast, "django": django, **json.loads(seed_file.read_text())}


def _post(server: Server, path: str, token: str | None = None, body: bytes = b"", **headers: str):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        kept = {k.lower(): v for k, v in response.getheaders() if k.lower() not in _FRAMING}
        return response.status, kept, json.loads(data) if data else None
    finally:
        connection.close()


_FRAMING = {"content-length", "transfer-encoding", "date", "connection"}


def _same(pair, path: str, token: str | None = None, **headers: str):
    fast = _post(pair["fast"], path, token, **headers)
    django = _post(pair["django"], path, token, **headers)
    assert fast == django
    return fast


def test_answers_match_djangos_for_every_kind_of_request(pair):
    shift, other = pair["shifts"][0], pair["shifts"][1]
    tokens = pair["tokens"]
    path = f"/api/v1/shifts/{shift}/signups"
    # Two places and one waitlist spot, taken through the server without the gate.
    taken = [_post(pair["django"], path, tokens[i]) for i in range(3)]
    assert [(s, b["status"]) for s, _, b in taken] == [
        (201, "confirmed"),
        (201, "confirmed"),
        (201, "waitlisted"),
    ]

    for lang in ("en", "zh-CN"):
        status, headers, body = _same(pair, path, tokens[10], **{"Accept-Language": lang})
        assert (status, body["code"]) == (409, "shift_full")
        assert headers["content-type"].startswith("application/json")
        assert headers["x-content-type-options"] == "nosniff"
        status, _, body = _same(pair, path, tokens[0], **{"Accept-Language": lang})
        assert (status, body["code"]) == (409, "already_signed_up")
    # The gate renders a refusal once per language and sends it again: still Django's own.
    for lang in ("en", "zh-CN", "fr, en;q=0.5", None):
        asked = {"Accept-Language": lang} if lang else {}
        status, _, body = _same(pair, path, tokens[15], **asked)
        assert (status, body["code"]) == (409, "shift_full")
        assert body["message"].startswith("This shift" if lang and "en" in lang else "该班次")
    assert _same(pair, path)[2]["code"] in ("unauthorized", "invalid_token", "not_authenticated")
    assert _same(pair, path, "not-a-token")[0] == 401
    assert _same(pair, "/api/v1/shifts/999999/signups", tokens[11])[0] == 404
    # What the gate leaves to Django gets Django's answer from both servers.
    # (one key per server: they share the database, and with it the stored answers)
    keyed = [
        _post(pair[name], path, tokens[12], **{"Idempotency-Key": f"gate-{name}"})
        for name in ("fast", "django")
    ]
    assert keyed[0] == keyed[1] and keyed[0][2]["code"] == "shift_full"
    replayed = _post(pair["fast"], path, tokens[12], **{"Idempotency-Key": "gate-django"})
    assert replayed[1]["idempotent-replayed"] == "true" and replayed[2] == keyed[1][2]
    fast = _post(pair["fast"], path, tokens[13], body=b"{}", **{"Content-Type": "application/json"})
    assert fast[0] == 409 and fast[2]["code"] == "shift_full"

    # A free place: both servers give it (the gate hands the request to Django).
    other_path = f"/api/v1/shifts/{other}/signups"
    assert _post(pair["fast"], other_path, tokens[20])[2]["status"] == "confirmed"
    assert _post(pair["django"], other_path, tokens[21])[2]["status"] == "confirmed"

    # An ended session: 401 from both, even on a full shift.
    pair["fast"].run_django(
        "bench.signup_burst",
        "from backend.accounts.models import AuthSession; from django.utils import timezone; "
        f"from backend.accounts.tokens import access_token_decode as d; "
        f"AuthSession.objects.filter(pk=d({tokens[REVOKED]!r}).session_id).update(revoked_at=timezone.now())",
        timeout=120,
    )
    assert _same(pair, path, tokens[REVOKED])[0] == 401


def test_a_burst_through_the_gate_never_overbooks(pair):
    shift = pair["shifts"][2]
    path = f"/api/v1/shifts/{shift}/signups"
    tokens = [t for i, t in enumerate(pair["tokens"]) if i != REVOKED]
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = list(pool.map(lambda t: _post(pair["fast"], path, t), tokens))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201] * 3 + [409] * (len(tokens) - 3)
    assert {body["code"] for status, _, body in answers if status == 409} == {"shift_full"}
    held = [body["status"] for status, _, body in answers if status == 201]
    assert sorted(held) == ["confirmed", "confirmed", "waitlisted"]
    # And the rows agree with the counters.
    pair["fast"].run_django(
        "bench.signup_burst", "check(out=os.environ['LINLI_GATE_SEED'] + '.check')", timeout=120
    )
    checked = json.loads(Path(pair["fast"].environ()["LINLI_GATE_SEED"] + ".check").read_text())
    assert checked["overbooked"] == 0 and checked["mismatched"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_read_hands_every_waiting_request_to_django_at_once(volunteer_pool, monkeypatch):
    shift, tokens = volunteer_pool(capacity=0, waitlist=0, volunteers=3)

    async def broken(shift_id, asks):
        raise OSError("database restarting")

    monkeypatch.setattr(SignupGate, "fetch", staticmethod(broken))
    gate, django, path = _gate(shift, answering=True)

    async def burst():
        calls = [_call(gate, _signing_up(path, t)) for t in tokens]
        return await asyncio.wait_for(asyncio.gather(*calls), 5)  # not after MAX_WAIT

    assert _on_a_loop(burst) == [(299, b"django")] * 3
    assert django.read_open == [None] * 3  # not read open: the view makes its own pre-check
    assert fastpath._shifts == {} or all(not states for states in fastpath._shifts.values())


@pytest.mark.django_db(transaction=True)
def test_django_takes_the_session_the_gate_read_and_reads_it_itself_otherwise(volunteer_pool, monkeypatch):
    """A sign-up the gate admits reaches Django's auth with the session its read found in force
    (``VOUCHED``): the same 201, without a second session query. A request the gate leaves
    alone (here: one with an ``Idempotency-Key``) is authenticated by Django's own read, and so
    is one that reaches Django's auth more than ``VOUCH_FOR`` after the gate's read."""
    import api.auth
    from backend.runtime.handlers import LeanASGIHandler

    shift, tokens = volunteer_pool(capacity=3, waitlist=0, volunteers=3)
    read: list[str] = []
    real = api.auth.session_from_access_token
    monkeypatch.setattr(
        api.auth, "session_from_access_token", lambda token: read.append(token) or real(token)
    )
    gate = SignupGate(fallback=LeanASGIHandler())
    path = f"/api/v1/shifts/{shift.pk}/signups"

    async def both():  # Django's own first: its first request loads and builds what it needs
        own = await _call(gate, _signing_up(path, tokens[1], **{"Idempotency-Key": "k-1"}))
        vouched = await _call(gate, _signing_up(path, tokens[0]))
        return vouched, own

    vouched, own = _on_a_loop(both)
    assert vouched[0] == 201 and json.loads(vouched[1])["status"] == "confirmed"
    assert own[0] == 201 and json.loads(own[1])["status"] == "confirmed"
    assert read == [tokens[1]]
    monkeypatch.setattr("backend.accounts.selectors.VOUCH_FOR", 0.0)
    third = _on_a_loop(lambda: _call(gate, _signing_up(path, tokens[2])))
    assert third[0] == 201 and json.loads(third[1])["status"] == "confirmed"
    assert read == [tokens[1], tokens[2]]


@pytest.mark.django_db
def test_a_vouched_session_stands_only_for_its_token_and_a_moment():
    import time

    from backend.accounts.models import AuthSession
    from backend.accounts.selectors import VOUCH_FOR, VOUCHED, vouched_session
    from tests.volunteers import factories as vf

    user = vf.volunteer()
    session = AuthSession.objects.create(user=user, method="test")
    now = time.monotonic()
    scope = {VOUCHED: ("tok", session.pk, user.pk, now)}
    found = vouched_session(scope, "tok")
    assert (found.pk, found.user_id, found.user.pk, found.user.is_active) == (
        session.pk,
        user.pk,
        user.pk,
        True,
    )
    assert found.user.phone == user.phone  # any other field loads, as a deferred one does
    assert vouched_session(scope, "other") is None
    assert vouched_session({VOUCHED: ("tok", session.pk, user.pk, now - VOUCH_FOR - 0.1)}, "tok") is None
    assert vouched_session({}, "tok") is None and vouched_session(None, "tok") is None
