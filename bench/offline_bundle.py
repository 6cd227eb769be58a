"""The scanner's offline bundle through daphne: the full bundle of a big event and a 100-change delta.

``python -m bench offline_bundle [--passes 30000] [--changes 100] [--runs 15]
[--database-url postgres://…]``

Starts Linli's real ASGI app under daphne on a fresh database (SQLite unless ``--database-url``),
seeds one event with ``--passes`` passes (two thirds volunteers, one third attendees; some
blocked, some already entered, ``--passes // 60`` revoked secrets) and two check-in lists, then
as a scanner of the event:

- fetches ``GET /api/v1/events/{id}/offline-bundle`` ``--runs`` times (after two warm-up
  fetches), plain and with ``Accept-Encoding: gzip``: the time to the last byte (median, p90),
  the time to the first byte and the bytes on the wire;
- makes ``--changes`` changes through the services (a third attendees added, a third voided, a
  third blocked), then fetches ``?since=<cursor>`` of the first bundle ``--runs`` times: the same
  figures, and the number of passes and revoked ids in the delta (checked against the changes).

Targets (the check-in issue): full bundle <= 300 ms and <= 2 MB, a 100-change delta <= 50 ms.
``hello_p50_ms`` (``GET /api/v1/ping``, one connection, same run) is the baseline of one request.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.harness import Server, cpu_plan, django_command, percentile, pinned, result, rss_kib

log = logging.getLogger("bench.offline_bundle")

SEED_FILE = "offline-bundle-seed.json"
CHANGE_FILE = "offline-bundle-changes.json"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


# --- runs inside prepare / change commands, in the server's environment ---------------------------


def seed(*, passes: int, out: str) -> None:
    """One event with ``passes`` passes (bulk inserted), two lists, a scanner and its token."""
    import random
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from backend.accounts.models import AuthSession, Grant, Role, ScopeType, User
    from backend.accounts.tokens import access_token_issue
    from backend.checkin import services
    from backend.checkin.models import CheckinList, Pass, RevokedSecret
    from backend.divisions.models import Division
    from backend.volunteers.models import Organisation

    rng = random.Random(14)
    with transaction.atomic():
        division, _ = Division.objects.get_or_create(code="4403", defaults={"name": "深圳市", "level": 2})
        org = Organisation.objects.create(name="基准测试活动方", division=division)
        now = timezone.now().replace(microsecond=0)
        event = services.event_create(
            organisation=org, title="城市马拉松（基准）", starts_at=now, ends_at=now + timedelta(hours=8)
        )
        CheckinList.objects.create(event=event, name="观众 Attendees", include_volunteers=False)
        rows = []
        for i in range(passes):
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            rows.append(
                Pass(
                    event=event,
                    kind=Pass.Kind.VOLUNTEER if i % 3 else Pass.Kind.ATTENDEE,
                    holder_name=name,
                    token_id=rng.randbytes(10).hex(),
                    secret="-",
                    blocked=i % 97 == 0,
                    first_entry_at=now if i % 5 == 0 else None,
                )
            )
        Pass.objects.bulk_create(rows, batch_size=2000)
        revoked = []
        for pass_obj in Pass.objects.filter(event=event).order_by("id")[: passes // 60]:
            revoked.append(
                RevokedSecret(
                    event=event, pass_obj=pass_obj, token_id=rng.randbytes(10).hex(), reason="reissue"
                )
            )
        RevokedSecret.objects.bulk_create(revoked, batch_size=2000)
        scanner = User.objects.create_user("13900000001")
        Grant.objects.create(
            user=scanner, role=Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=str(event.pk)
        )
        session = AuthSession.objects.create(user=scanner, method="bench")
        token = access_token_issue(user_id=scanner.pk, session_id=session.pk, ttl=6 * 3600)[0]
    Path(out).write_text(json.dumps({"event": event.pk, "token": token}))


def change(*, event_id: int, count: int, out: str) -> None:
    """``count`` changes through the services: attendees added, passes voided, passes blocked."""
    from backend.checkin import services
    from backend.checkin.models import Event, Pass

    event = Event.objects.get(pk=event_id)
    third = count // 3
    victims = list(
        Pass.objects.filter(event=event, status=Pass.Status.VALID, blocked=False).order_by("-id")[: 2 * third]
    )
    for i in range(count - 2 * third):
        services.pass_add_attendee(event=event, holder_name=f"新来客{i}")
    for pass_obj in victims[:third]:
        services.pass_void(pass_obj=pass_obj)
    for pass_obj in victims[third:]:
        services.pass_block(pass_obj=pass_obj, blocked=True)
    Path(out).write_text(json.dumps({"added": count - 2 * third, "voided": third, "blocked": third}))


# --- the measurement --------------------------------------------------------------------------


def _fetch(server: Server, path: str, headers: dict[str, str]) -> tuple[int, float, float, bytes, str]:
    """(status, ms to the first byte, ms to the last byte, body as sent, content-encoding)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        first = response.read(1)
        ttfb = (time.perf_counter() - started) * 1000
        body = first + response.read()
        total = (time.perf_counter() - started) * 1000
        return response.status, ttfb, total, body, response.getheader("Content-Encoding") or ""
    finally:
        conn.close()


def _series(server: Server, path: str, headers: dict[str, str], runs: int) -> dict[str, Any]:
    for _ in range(2):
        _fetch(server, path, headers)
    totals, firsts = [], []
    status, body, encoding = 0, b"", ""
    for _ in range(runs):
        status, ttfb, total, body, encoding = _fetch(server, path, headers)
        totals.append(total)
        firsts.append(ttfb)
    return {
        "status": status,
        "p50_ms": round(statistics.median(totals), 1),
        "p90_ms": round(percentile(totals, 90), 1),
        "ttfb_p50_ms": round(statistics.median(firsts), 1),
        "bytes": len(body),
        "encoding": encoding,
        "_body": body,
    }


def _decode(series: dict[str, Any]) -> dict[str, Any]:
    body = series.pop("_body")
    return json.loads(gzip.decompress(body) if series["encoding"] == "gzip" else body)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passes", type=int, default=30000, help="passes of the event (default 30000)")
    parser.add_argument("--changes", type=int, default=100, help="changes in the delta (default 100)")
    parser.add_argument("--runs", type=int, default=15, help="measured fetches of each kind (default 15)")
    parser.add_argument(
        "--database-url", default="", help="run the server on this database instead of SQLite"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    pin = not args.no_pin
    server_cpus, loadgen_cpus = cpu_plan() if pin else (None, None)
    env = {"LINLI_REDIS_PREFIX": f"linli-bench-bundle-{os.getpid()}", "REDIS_URL": ""}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    prepare = [migrate]
    if args.database_url:
        prepare.append([sys.executable, "manage.py", "flush", "--noinput", "-v", "0"])
    prepare.append(
        django_command(
            "bench.offline_bundle",
            f"seed(passes={args.passes}, out=os.path.join(os.environ['BENCH_TMP'], {SEED_FILE!r}))",
        )
    )
    with Server.linli(cpus=server_cpus, env=env, prepare=prepare, prepare_timeout=900) as server:
        data = json.loads((server.tmp / SEED_FILE).read_text())
        headers = {"Authorization": f"Bearer {data['token']}", "Accept-Language": "en"}
        zipped = {**headers, "Accept-Encoding": "gzip"}
        path = f"/api/v1/events/{data['event']}/offline-bundle"
        with pinned(loadgen_cpus if server.cpus else None):
            hello = [_fetch(server, "/api/v1/ping", {})[2] for _ in range(30)]
            full = _series(server, path, headers, args.runs)
            full_gzip = _series(server, path, zipped, args.runs)
        bundle = _decode(full)
        _decode(full_gzip)
        cursor = bundle.get("cursor")
        figures: dict[str, Any] = {
            "full": full,
            "full_gzip": full_gzip,
            "full_passes": len(bundle["passes"]),
            "full_revoked": len(bundle["revoked"]),
        }
        server.run_django(
            "bench.offline_bundle",
            f"change(event_id={data['event']}, count={args.changes}, "
            f"out=os.path.join(os.environ['BENCH_TMP'], {CHANGE_FILE!r}))",
            timeout=300,
        )
        changes = json.loads((server.tmp / CHANGE_FILE).read_text())
        if cursor is None:
            log.warning("the server answers no cursor: no delta to measure")
            figures["delta"] = None
        else:
            with pinned(loadgen_cpus if server.cpus else None):
                delta = _series(server, f"{path}?since={quote(cursor)}", headers, args.runs)
            body = _decode(delta)
            figures["delta"] = delta
            figures["delta_passes"] = len(body["passes"])
            figures["delta_revoked"] = len(body["revoked"])
            figures["delta_full"] = body.get("full")
            # added and blocked passes come back as passes; voided ones as revoked ids
            figures["delta_as_expected"] = (
                len(body["passes"]) == changes["added"] + changes["blocked"]
                and len(body["revoked"]) == changes["voided"]
            )
        figures["server_rss_kib"] = rss_kib(server.pid)
    return result(
        "offline_bundle",
        database="postgresql" if args.database_url else "sqlite",
        passes=args.passes,
        changes=args.changes,
        **figures,
        hello_p50_ms=round(statistics.median(hello), 2),
        targets={"full_ms": 300, "full_bytes": 2_000_000, "delta_ms": 50},
    )
