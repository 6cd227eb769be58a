"""Live check-in: N scanners redeem distinct passes through daphne while 100 dashboards listen.

``python -m bench checkin [--scanners 6] [--dashboards 100] [--layer memory|redis|both]``

For each channel layer (in-memory; channels-redis when ``REDIS_URL`` is set) it starts Linli's
real ASGI app under daphne on a fresh SQLite database (``--database-url`` for PostgreSQL), seeds
one event with enough attendee passes, connects the dashboards to ``/ws/v1/events/{id}/live``,
then lets the scanners redeem (each its own passes, one redeem in flight per scanner) on
``/ws/v1/events/{id}/scan`` for ``--duration`` seconds. Reported per layer:

- ``scans_per_s``, ``ack_p50_ms`` / ``ack_p99_ms`` (redeem sent → result received);
- ``fanout_p50_ms`` / ``fanout_p99_ms`` (redeem sent → the last dashboard has the ``checkin``);
- ``lost`` / ``duplicated`` dashboard messages (every dashboard must see every seq once);
- ``echo_msg_per_s``: the Channels echo consumer (``/ws/v1/echo``, same server, same run, 50
  clients, one frame in and one frame out per message);
- ``frames_per_s``: frames the server delivered per second, acks + dashboard messages (a scan
  seen by 100 dashboards is 101 frames), and ``frames_ratio`` = frames/s ÷ echo msg/s (the echo
  delivers one frame per message) — the ratio the target is judged on (``ratio`` repeats it);
- ``scan_ratio`` = scans/s ÷ echo msg/s, for reference: one scan is a hundred times the echo's
  work, so this one cannot approach 0.25 with 100 dashboards.

Targets (issue 6): frames_ratio ≥ 0.25, ack p99 ≤ 100 ms, fan-out p99 ≤ 250 ms, lost = duplicated = 0.
The default of 6 scanners is a busy event door (each scanner keeps one redeem in flight, far
faster than a person at a gate); ``--scanners 10`` is the heavier run the issue quotes.
``seed`` and ``connect`` are reused by the end-to-end tests (tests/checkin/test_e2e_daphne.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Server, cpu_plan, percentiles, pinned, result, rss_kib

log = logging.getLogger("bench.checkin")

SEED_FILE = "checkin-seed.json"


# --- seeding (runs inside a prepare command, in the server's environment) --------------------------


def seed(*, passes: int, scanners: int = 1, out: str | None = None) -> dict[str, Any]:
    """Create an event with ``passes`` attendee passes, ``scanners`` scanner accounts and a
    coordinator, and write their tokens and the pass secrets to ``out`` (JSON). Django must be set up."""
    from datetime import timedelta

    from django.utils import timezone

    from backend.accounts.models import AuthSession, Grant, Role, ScopeType, User
    from backend.accounts.tokens import access_token_issue
    from backend.checkin import services
    from backend.checkin.models import EventSequence, Pass
    from backend.core import keys
    from backend.core.signed_tokens import new_token_id
    from backend.divisions.models import Division
    from backend.volunteers.models import Organisation

    parent = None
    for code, name, level in (
        ("44", "广东省", 1),
        ("4403", "深圳市", 2),
        ("440309", "龙华区", 3),
        ("440309002", "民治街道", 4),
    ):
        parent, _ = Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent}
        )
    assert parent is not None
    org = Organisation.objects.create(name="基准测试志愿队", division=parent)
    now = timezone.now()
    event = services.event_create(
        organisation=org,
        title="基准测试活动",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=6),
        checkin_opens_at=now - timedelta(hours=1),
    )

    grants: list[int] = []

    def user_token(
        phone: str, role: str, scope_type: str = ScopeType.EVENT, scope_id: str = str(event.pk)
    ) -> str:
        user = User.objects.create_user(phone)
        grants.append(Grant.objects.create(user=user, role=role, scope_type=scope_type, scope_id=scope_id).pk)
        session = AuthSession.objects.create(user=user, method="bench")
        return access_token_issue(user_id=user.pk, session_id=session.pk)[0]

    coordinator = user_token("13700000000", Role.COORDINATOR)
    scanner_tokens = [user_token(f"1370000{i + 1:04d}", Role.SCANNER) for i in range(scanners)]
    scanner_grants = grants[1:]
    admin = user_token("13799999998", Role.PLATFORM_ADMIN, scope_type="", scope_id="")
    outsider = User.objects.create_user("13799999999")
    outsider_session = AuthSession.objects.create(user=outsider, method="bench")
    outsider_token = access_token_issue(user_id=outsider.pk, session_id=outsider_session.pk)[0]
    today = timezone.localdate()
    expires = timezone.localdate(event.ends_at) + timedelta(days=1)
    rows, secrets = [], []
    for i in range(passes):
        token_id = new_token_id()
        secret = keys.token_sign(purpose="pass", token_id=token_id, issued=today, expires=expires)
        secrets.append(secret)
        rows.append(
            Pass(
                event=event,
                kind=Pass.Kind.ATTENDEE,
                holder_name=f"参加者{i}",
                token_id=token_id.hex(),
                secret=secret,
            )
        )
    Pass.objects.bulk_create(rows, batch_size=500)
    EventSequence.objects.filter(pk=event.pk).update(passes=passes)  # as pass_issue keeps it
    data = {
        "event_id": event.pk,
        "list_id": event.lists.get().pk,
        "coordinator": coordinator,
        "scanners": scanner_tokens,
        "scanner_grants": scanner_grants,
        "admin": admin,
        "outsider": outsider_token,
        "secrets": secrets,
    }
    if out:
        Path(out).write_text(json.dumps(data))
    return data


def seed_command(*, passes: int, scanners: int) -> list[str]:
    """A ``Server(prepare=...)`` command that seeds into ``$BENCH_TMP/checkin-seed.json``."""
    code = (
        "import os, django; django.setup(); from bench.checkin import seed; "
        f"seed(passes={passes}, scanners={scanners}, out=os.path.join(os.environ['BENCH_TMP'], {SEED_FILE!r}))"
    )
    return [sys.executable, "-c", code]


def load_seed(server: Server) -> dict[str, Any]:
    return json.loads((server.tmp / SEED_FILE).read_text())


async def connect(url: str, token: str | None = None, *, subprotocol: bool = False, **kwargs: Any) -> Any:
    """A websocket to ``url`` with the token in the Authorization header or as a subprotocol."""
    from websockets.asyncio.client import connect as ws_connect

    headers = None
    subprotocols = None
    if token and subprotocol:
        subprotocols = ["linli.v1", f"bearer.{token}"]
    elif token:
        headers = {"Authorization": f"Bearer {token}"}
    kwargs.setdefault("open_timeout", 20)
    return await ws_connect(
        url,
        additional_headers=headers,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        compression=None,
        ping_interval=None,
        close_timeout=2,
        max_queue=None,
        **kwargs,
    )


# --- the measurement --------------------------------------------------------------------------------


def _ms(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p99 = percentiles(values, (50, 99))
    return round(p50, 2), round(p99, 2)


async def _open_many(url: str, token: str, count: int, concurrency: int = 10) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> Any:
        async with gate:
            for attempt in range(3):  # a loaded server may drop a handshake past its timeout
                try:
                    return await connect(url, token, subprotocol=True)
                except Exception:
                    if attempt == 2:
                        raise
                    log.warning("dashboard connect failed; again", exc_info=True)
                    await asyncio.sleep(1)

    return list(await asyncio.gather(*(one() for _ in range(count))))


class _Dashboards:
    """The dashboards' side: which seq each one received and when, and duplicates."""

    def __init__(self, boards: list[Any], start_seq: int) -> None:
        self.boards = boards
        self.start_seq = start_seq
        self.received: list[dict[int, float]] = [{} for _ in boards]
        self.duplicates = 0
        self.final_seq: int | None = None
        self.all_in = asyncio.Event()

    def complete(self) -> bool:
        final = self.final_seq
        return final is not None and all(len(r) >= final - self.start_seq for r in self.received)

    async def listen(self, index: int) -> None:
        seen = self.received[index]
        with contextlib.suppress(Exception):
            async for frame in self.boards[index]:
                now = time.perf_counter()
                message = json.loads(frame)
                if message.get("type") != "checkin":
                    continue
                if message["seq"] in seen:
                    self.duplicates += 1
                else:
                    seen[message["seq"]] = now
                if self.complete():
                    self.all_in.set()

    def lost(self) -> int:
        expected = set(range(self.start_seq + 1, (self.final_seq or self.start_seq) + 1))
        return sum(len(expected - set(r)) for r in self.received)

    def fanout(self, sent_at: dict[int, float]) -> list[float]:
        """Scan sent → the last dashboard has it, for scans every dashboard received."""
        out = []
        for seq, started in sent_at.items():
            times = [r[seq] for r in self.received if seq in r]
            if times and len(times) == len(self.received):
                out.append((max(times) - started) * 1000)
        return out


async def _snapshots(boards: list[Any]) -> int:
    start_seq = 0
    for ws in boards:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert snapshot["type"] == "snapshot", snapshot
        start_seq = max(start_seq, snapshot["seq"])
    return start_seq


class _Scanners:
    """The scanners' side: each redeems its share of the passes until the deadline, one redeem
    in flight, ``interval`` seconds apart (0: back to back)."""

    def __init__(self, secrets: list[str], count: int, deadline: float, interval: float = 0.0) -> None:
        self.secrets = secrets
        self.per_scanner = len(secrets) // count
        self.deadline = deadline
        self.interval = interval
        self.count = count
        self.sent_at: dict[int, float] = {}
        self.acks: list[float] = []
        self.statuses: dict[str, int] = {}
        self.nonces = itertools.count()

    async def scan(self, index: int, ws: Any) -> None:
        if self.interval:
            await asyncio.sleep(self.interval * index / self.count)  # spread the doors' rhythm
        for secret in self.secrets[index * self.per_scanner : (index + 1) * self.per_scanner]:
            if time.perf_counter() >= self.deadline:
                return
            if self.interval and self.acks:
                await asyncio.sleep(self.interval)
            nonce = f"bench-{next(self.nonces):010d}"
            started = time.perf_counter()
            await ws.send(
                json.dumps(
                    {"type": "redeem", "secret": secret, "nonce": nonce, "kind": "entry"},
                    separators=(",", ":"),
                )
            )
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            self.acks.append((time.perf_counter() - started) * 1000)
            key = reply.get("status") if reply.get("type") == "result" else reply.get("code", "?")
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if "seq" in reply:
                self.sent_at[reply["seq"]] = started
        log.warning("scanner %d ran out of passes", index)


async def measure_checkin(
    server: Server | list[Server],
    seed_data: dict[str, Any],
    *,
    scanners: int,
    dashboards: int,
    duration: float,
    settle: float = 10.0,
    interval: float = 0.0,
) -> dict[str, Any]:
    """Dashboards and scanners spread round-robin over ``server`` (one or several processes)."""
    servers = server if isinstance(server, list) else [server]
    event_id = seed_data["event_id"]
    live_urls = [f"{srv.ws_url}/ws/v1/events/{event_id}/live" for srv in servers]
    scan_urls = [f"{srv.ws_url}/ws/v1/events/{event_id}/scan" for srv in servers]
    shares = [len(range(i, dashboards, len(servers))) for i in range(len(servers))]
    boards = [
        ws
        for url, share in zip(live_urls, shares, strict=True)
        for ws in await _open_many(url, seed_data["coordinator"], share)
    ]
    feed = _Dashboards(boards, await _snapshots(boards))
    listeners = [asyncio.create_task(feed.listen(i)) for i in range(len(boards))]
    scanner_socks = [
        await connect(scan_urls[i % len(servers)], seed_data["scanners"][i % len(seed_data["scanners"])])
        for i in range(scanners)
    ]
    work = _Scanners(seed_data["secrets"], scanners, time.perf_counter() + duration, interval)
    began = time.perf_counter()
    await asyncio.gather(*(work.scan(i, ws) for i, ws in enumerate(scanner_socks)))
    elapsed = time.perf_counter() - began
    feed.final_seq = max(work.sent_at) if work.sent_at else feed.start_seq
    if feed.complete():
        feed.all_in.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(feed.all_in.wait(), settle)
    fanout = feed.fanout(work.sent_at)
    for ws in [*scanner_socks, *boards]:
        with contextlib.suppress(Exception):
            await ws.close()
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    acks, statuses, received = work.acks, work.statuses, feed.received
    lost, duplicates = feed.lost(), feed.duplicates
    scans = len(acks)
    ack_p50, ack_p99 = _ms(acks)
    fan_p50, fan_p99 = _ms(fanout)
    return {
        "scans": scans,
        "scans_per_s": round(scans / elapsed, 1) if elapsed else 0.0,
        "statuses": statuses,
        "ack_p50_ms": ack_p50,
        "ack_p99_ms": ack_p99,
        "fanout_p50_ms": fan_p50,
        "fanout_p99_ms": fan_p99,
        "dashboards": len(boards),
        "scanners": scanners,
        "processes": len(servers),
        "interval_s": interval,
        "dashboard_messages": sum(len(r) for r in received),
        "lost": lost,
        "duplicated": duplicates,
        "frames_per_s": round((scans + sum(len(r) for r in received)) / elapsed, 1) if elapsed else 0.0,
    }


async def measure_echo(server: Server, token: str, *, duration: float, clients: int = 50) -> dict[str, Any]:
    from bench.loadgen import ws_echo_load

    load = await ws_echo_load(
        f"{server.ws_url}/ws/v1/echo",
        clients=clients,
        duration=duration,
        message='{"type":"ping"}',
        headers={"Authorization": f"Bearer {token}"},
    )
    return load.as_dict()


def run_layer(args: argparse.Namespace, layer: str, pin: bool) -> dict[str, Any]:
    server_cpus, loadgen_cpus = cpu_plan() if pin else (None, None)
    passes = args.passes
    env = {"LINLI_REDIS_PREFIX": f"linli-bench-checkin-{os.getpid()}"}
    if layer == "redis":
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        env["REDIS_URL"] = ""
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        seed_command(passes=passes, scanners=args.scanners),
    ]
    if args.database_url:  # a shared database keeps the last run's rows: empty it before seeding
        prepare.insert(1, [sys.executable, "manage.py", "flush", "--noinput", "-v", "0"])
    processes = args.processes if layer == "redis" else 1
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Server.linli(cpus=server_cpus, env=env, prepare=prepare, prepare_timeout=600))
        ]
        # More processes share the database and the Redis layer (checked in run()).
        servers += [
            stack.enter_context(Server.linli(cpus=server_cpus, env=env, prepare=[]))
            for _ in range(processes - 1)
        ]
        server = servers[0]
        data = load_seed(server)
        with pinned(loadgen_cpus):
            echo = asyncio.run(measure_echo(server, data["coordinator"], duration=min(args.duration, 5)))
            figures = asyncio.run(
                measure_checkin(
                    servers,
                    data,
                    scanners=args.scanners,
                    dashboards=args.dashboards,
                    duration=args.duration,
                    interval=args.interval,
                )
            )
        figures["server_rss_kib"] = sum(rss_kib(srv.pid) for srv in servers)
        problems = [
            line
            for srv in servers
            for line in srv.log_tail(100_000).splitlines()
            if "WSCONNECT" not in line and "WSDISCONNECT" not in line and '"GET /api/v1/ping"' not in line
        ]
        if problems or figures["lost"] or figures["duplicated"]:
            log.warning("server log (%s layer):\n%s", layer, "\n".join(problems[-60:]))
    echo_rate = echo["msg_per_s"] or 0.0
    figures.update(
        layer=layer,
        echo_msg_per_s=echo_rate,
        echo_p99_ms=echo["p99_ms"],
        scan_ratio=round(figures["scans_per_s"] / echo_rate, 4) if echo_rate else None,
        frames_ratio=round(figures["frames_per_s"] / echo_rate, 3) if echo_rate else None,
        ratio_basis="frames",
    )
    figures["ratio"] = figures["frames_ratio"]
    figures["targets_met"] = bool(
        figures["frames_ratio"] is not None
        and figures["frames_ratio"] >= 0.25
        and (figures["ack_p99_ms"] or 1e9) <= 100
        and (figures["fanout_p99_ms"] or 1e9) <= 250
        and figures["lost"] == 0
        and figures["duplicated"] == 0
    )
    return figures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scanners", type=int, default=6, help="concurrent scanner sockets (default 6: a busy door)"
    )
    parser.add_argument("--dashboards", type=int, default=100, help="listening dashboards (default 100)")
    parser.add_argument(
        "--passes", type=int, default=6000, help="passes to seed (each redeemed at most once)"
    )
    parser.add_argument(
        "--layer",
        choices=["memory", "redis", "both"],
        default="both",
        help="channel layer (redis needs REDIS_URL)",
    )
    parser.add_argument(
        "--database-url", default="", help="run the server on this database instead of SQLite"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="daphne processes for the Redis layer, dashboards and scanners spread over them "
        "(more than 1 needs --database-url and REDIS_URL; default 1)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.0,
        help="seconds between one scanner's redeems (default 0: back to back; a door is ~2-5 s)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    layers = ["memory", "redis"] if args.layer == "both" else [args.layer]
    if args.processes > 1 and not (args.database_url and os.environ.get("REDIS_URL")):
        raise SystemExit("--processes > 1 needs --database-url (a shared database) and REDIS_URL")
    if "redis" in layers and not os.environ.get("REDIS_URL"):
        if args.layer == "redis":
            raise SystemExit("--layer redis needs REDIS_URL")
        layers.remove("redis")
    out = {layer: run_layer(args, layer, pin=not args.no_pin) for layer in layers}
    first = out[layers[0]]
    return result(
        "checkin",
        scans_per_s=first["scans_per_s"],
        ratio=first["ratio"],
        ratio_basis="frames",
        frames_ratio=first["frames_ratio"],
        scan_ratio=first["scan_ratio"],
        ack_p99_ms=first["ack_p99_ms"],
        fanout_p99_ms=first["fanout_p99_ms"],
        lost=sum(v["lost"] for v in out.values()),
        duplicated=sum(v["duplicated"] for v in out.values()),
        targets_met=all(v["targets_met"] for v in out.values()),
        layers=out,
    )
