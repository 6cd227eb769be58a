"""Sign-up bursts: 200 volunteers sign up for the same shift at once, 100 times, through daphne.

``python -m bench signup_burst [--bursts 100] [--burst-size 200] [--capacity 10] [--waitlist 20]
[--database-url postgres://…]``

Starts Linli's real ASGI app under daphne on a fresh database (SQLite unless ``--database-url``),
seeds one published activity with ``--bursts`` non-overlapping shifts of ``--capacity`` places
and ``--burst-size`` registered volunteers, then for each shift fires every volunteer's
``POST /api/v1/shifts/{id}/signups`` at the same moment (one connection each). Afterwards the
database is checked for shifts holding more sign-ups than places. Reported:

- ``overbooked``: shifts with more held places than capacity, or a counter that disagrees with
  the sign-up rows (must be 0);
- ``status_5xx`` (must be 0) and ``errors`` (timeouts, resets); ``statuses`` by code
  (201 confirmed or waitlisted, 409 ``shift_full``);
- ``signups_per_s`` (responses ÷ time spent in bursts), ``p50_ms`` / ``p99_ms`` per request;
- ``hello_rps`` (``GET /api/v1/ping`` on the same server, same run, in ``--rounds`` slices
  between groups of bursts: ``interleaved``) and ``ratio`` = signups_per_s ÷ hello_rps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import Server, cpu_plan, django_command, percentiles, pinned, result, rss_kib
from bench.hello import measure_hello
from bench.loadgen import http_load

log = logging.getLogger("bench.signup_burst")

SEED_FILE = "signup-burst-seed.json"
CHECK_FILE = "signup-burst-check.json"


# --- runs inside prepare / check commands, in the server's environment ---------------------------


def seed(*, shifts: int, volunteers: int, capacity: int, waitlist: int, out: str) -> None:
    """One published activity with ``shifts`` future shifts, ``volunteers`` registered volunteers
    and their access tokens, written to ``out``. Django must be set up."""
    from datetime import date, timedelta

    from django.db import transaction
    from django.utils import timezone

    from backend.accounts.models import AuthSession, User
    from backend.accounts.tokens import access_token_issue
    from backend.core.crypto import blind_index, seal
    from backend.core.validators import resident_id_check_char
    from backend.divisions.models import Division
    from backend.volunteers.models import Activity, Organisation, Shift, VolunteerProfile
    from backend.volunteers.services import ID_INDEX_PURPOSE, ID_PURPOSE

    with transaction.atomic():
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
        org = Organisation.objects.create(name="基准测试志愿队", division=parent)
        activity = Activity.objects.create(
            organisation=org,
            programme="red_vest",
            title="周末U站值守（基准）",
            division=parent,
            status=Activity.Status.PUBLISHED,
            published_at=timezone.now(),
        )
        first = timezone.now().replace(microsecond=0) + timedelta(days=2)
        shift_ids = []
        for i in range(shifts):
            starts_at = first + timedelta(hours=4 * i)
            shift = Shift.objects.create(
                activity=activity,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=3),
                capacity=capacity,
                waitlist_size=waitlist,
                signup_closes_at=starts_at,
                cancel_deadline=starts_at - timedelta(hours=24),
            )
            shift_ids.append(shift.pk)
        tokens = []
        for i in range(volunteers):
            user = User.objects.create_user(f"137{i:08d}")
            first17 = f"440309{date(1990, 1, 1) + timedelta(days=i):%Y%m%d}{(i % 499) * 2 + 1:03d}"
            number = first17 + resident_id_check_char(first17)
            VolunteerProfile.objects.create(
                user=user,
                volunteer_no=f"4403B{i:07d}",
                real_name="基准志愿者",
                id_number_sealed=seal(number, purpose=ID_PURPOSE),
                id_number_index=blind_index(number, purpose=ID_INDEX_PURPOSE),
                birth_date=date(1990, 1, 1) + timedelta(days=i),
                gender="male",
                mobile="13800138000",
                division=parent,
            )
            session = AuthSession.objects.create(user=user, method="bench")
            tokens.append(access_token_issue(user_id=user.pk, session_id=session.pk, ttl=6 * 3600)[0])
    Path(out).write_text(json.dumps({"shifts": shift_ids, "tokens": tokens, "capacity": capacity}))


def check(*, out: str) -> None:
    """Count overbooked shifts and counters that disagree with the rows; write to ``out``."""
    from django.db.models import Count, Q

    from backend.volunteers.models import Shift, Signup

    holding = list(Signup.HOLDING_STATUSES)
    rows = Shift.objects.annotate(
        held=Count("signups", filter=Q(signups__status__in=holding)),
        waiting=Count("signups", filter=Q(signups__status=Signup.Status.WAITLISTED)),
    ).values("pk", "capacity", "taken", "held", "waitlist_size", "waitlisted", "waiting")
    overbooked = mismatched = confirmed = 0
    for row in rows:
        confirmed += row["held"]
        if row["held"] > row["capacity"] or row["waiting"] > row["waitlist_size"]:
            overbooked += 1
        if row["held"] != row["taken"] or row["waiting"] != row["waitlisted"]:
            mismatched += 1
    Path(out).write_text(json.dumps({"overbooked": overbooked, "mismatched": mismatched, "held": confirmed}))


# --- the measurement --------------------------------------------------------------------------


async def bursts(
    server: Server,
    shifts: list[int],
    tokens: list[str],
    *,
    latencies: array[float],
    statuses: Counter[int],
    errors: Counter[str],
) -> float:
    """Fire one burst per shift, one after another; returns the seconds spent in them."""
    busy = 0.0
    for shift_id in shifts:
        path = f"/api/v1/shifts/{shift_id}/signups"

        def make(i: int, path: str = path) -> tuple[str, str, dict[str, str], bytes]:
            return ("POST", path, {"Authorization": f"Bearer {tokens[i]}", "Accept-Language": "en"}, b"")

        started = time.perf_counter()
        load = await http_load(
            server.url,
            connections=len(tokens),
            duration=120,
            max_requests=len(tokens),
            make_request=make,
            request_timeout=60,
        )
        busy += time.perf_counter() - started
        latencies.extend(load.latencies_ms)
        statuses.update(load.statuses)
        errors.update(load.errors)
    return busy


def interleaved(
    server: Server, data: dict[str, Any], args: argparse.Namespace, *, pin: bool
) -> dict[str, Any]:
    """Bursts in ``--rounds`` groups, each after a slice of hello on the same server, so both
    figures of the ratio come from the same minutes. Measured one after the other (hello for 10
    s, then the bursts), the ratio moved with whatever else the machine ran: the same code gave
    0.37, 0.46 and 0.51 in three runs while hello alone went from 1,900 to 2,240 req/s."""
    _server_cpus, loadgen_cpus = cpu_plan() if pin else (None, None)
    latencies: array[float] = array("d")
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    tokens = data["tokens"][: args.burst_size]
    shifts = data["shifts"]
    rounds = max(1, min(args.rounds, len(shifts)))
    slice_s = max(min(args.duration, 10) / rounds, 1.0)
    busy = hello_requests = hello_seconds = 0.0
    hello_p99: list[float] = []
    for i in range(rounds):
        hello = measure_hello(
            server,
            duration=slice_s,
            warmup=args.warmup if i == 0 else 0.5,
            connections=args.connections,
            pin=pin,
        )
        hello_requests += hello["requests"]
        hello_seconds += hello["duration_s"]
        if hello["p99_ms"] is not None:
            hello_p99.append(hello["p99_ms"])
        group = shifts[i * len(shifts) // rounds : (i + 1) * len(shifts) // rounds]
        with pinned(loadgen_cpus if server.cpus else None):
            busy += asyncio.run(
                bursts(server, group, tokens, latencies=latencies, statuses=statuses, errors=errors)
            )
    p50, p99 = percentiles(latencies, (50, 99))
    responses = sum(statuses.values())
    return {
        "requests": responses,
        "burst_seconds": round(busy, 3),
        "signups_per_s": round(responses / busy, 1) if busy else 0.0,
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "status_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "rounds": rounds,
        "hello_rps": round(hello_requests / hello_seconds, 1) if hello_seconds else 0.0,
        "hello_p99_ms": max(hello_p99) if hello_p99 else None,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bursts", type=int, default=100, help="bursts, one shift each (default 100)")
    parser.add_argument(
        "--burst-size", type=int, default=200, help="concurrent sign-ups per burst (default 200)"
    )
    parser.add_argument("--capacity", type=int, default=10, help="places per shift (default 10)")
    parser.add_argument("--waitlist", type=int, default=20, help="waitlist places per shift (default 20)")
    parser.add_argument(
        "--database-url", default="", help="run the server on this database instead of SQLite"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="hello slices interleaved with the bursts (default 4)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    pin = not args.no_pin
    server_cpus, _loadgen_cpus = cpu_plan() if pin else (None, None)
    env = {"LINLI_REDIS_PREFIX": f"linli-bench-signup-{os.getpid()}", "REDIS_URL": ""}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    seed_code = (
        f"seed(shifts={args.bursts}, volunteers={args.burst_size}, capacity={args.capacity}, "
        f"waitlist={args.waitlist}, out=os.path.join(os.environ['BENCH_TMP'], {SEED_FILE!r}))"
    )
    prepare = [
        [sys.executable, "manage.py", "flush", "--noinput", "-v", "0"]
        if args.database_url
        else [sys.executable, "-c", "pass"],
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        django_command("bench.signup_burst", seed_code),
    ]
    if args.database_url:  # flush needs the tables: migrate first, then flush, then seed
        prepare = [prepare[1], prepare[0], prepare[2]]
    with Server.linli(cpus=server_cpus, env=env, prepare=prepare, prepare_timeout=600) as server:
        data = json.loads((server.tmp / SEED_FILE).read_text())
        figures = interleaved(server, data, args, pin=pin)
        figures["server_rss_kib"] = rss_kib(server.pid)
        server.run_django(
            "bench.signup_burst",
            f"check(out=os.path.join(os.environ['BENCH_TMP'], {CHECK_FILE!r}))",
            timeout=300,
        )
        checked = json.loads((server.tmp / CHECK_FILE).read_text())
        server_log = server.log_path.read_text(errors="replace")
        locked_in_log = "database is locked" in server_log
        if figures["status_5xx"] or figures["errors"]:
            log.warning(
                "server log (errors):\n%s",
                "\n".join(line for line in server_log.splitlines() if " - - [" not in line)[-6000:],
            )
    hello_rps = figures["hello_rps"]
    expected_held = args.bursts * min(args.capacity, args.burst_size)
    return result(
        "signup_burst",
        bursts=args.bursts,
        burst_size=args.burst_size,
        capacity=args.capacity,
        waitlist=args.waitlist,
        database="postgresql" if args.database_url else "sqlite",
        overbooked=checked["overbooked"],
        counter_mismatches=checked["mismatched"],
        places_held=checked["held"],
        places_expected=expected_held,
        database_locked_in_log=locked_in_log,
        **figures,
        ratio=round(figures["signups_per_s"] / hello_rps, 3) if hello_rps else None,
    )
