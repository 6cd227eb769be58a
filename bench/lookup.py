"""GET /api/v1/verify/{TOKEN} under daphne: valid badges and forged ones, against ``hello``.

``python -m bench lookup`` starts Linli on a fresh SQLite database, seeds ``--credentials``
practitioners with valid credentials (real signed tokens, real photos' absence does not matter
here), measures the ``hello`` baseline on the same server, then keeps 64 connections busy on
``/api/v1/verify/{TOKEN}`` cycling through the valid tokens, then through forged ones (the same
payloads signed by a stranger's key: the most expensive way to be refused, a full signature
check). Requests carry ``X-Forwarded-For`` from 200 client addresses behind one trusted proxy, so
the per-address rate limit runs as in production (its rate raised above the load).

Targets: valid ≥ 0.8 × hello rps with p99 ≤ 50 ms; forged ≥ 1.0 × hello rps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bench.harness import Server, cpu_plan, pinned, result, rss_kib
from bench.hello import measure_hello
from bench.loadgen import http_load

log = logging.getLogger("bench.lookup")

CLIENTS = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--credentials", type=int, default=200, help="valid credentials to seed (default 200)"
    )


def seed(count: int, out: str) -> None:
    """Run inside the server's environment (a prepare command): create the data, write tokens."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    django.setup()
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.utils import timezone

    from backend.core.signed_tokens import CREDENTIAL_DOMAIN, parse_token, sign_token
    from backend.core.validators import resident_id_check_char
    from backend.credentials import services

    association = services.association_create(actor=None, name="深圳市燃气行业协会（压测）")
    today = timezone.localdate()
    tokens = []
    for i in range(count):
        first17 = f"440309{19700101 + (i % 28) + 100 * (i // 28 % 12):08d}{i % 1000:03d}"
        person = services.practitioner_create(
            actor=None,
            association=association,
            name=f"测试{i:04d}",
            id_number=first17 + resident_id_check_char(first17),
            employer="压测燃气服务有限公司",
        )
        credential = services.credential_issue(
            actor=None,
            practitioner=person,
            type="燃气安装维修",
            certificate_no=f"BENCH-{i:06d}",
            qualification="四级",
            valid_from=today - timedelta(days=1),
            valid_until=today + timedelta(days=365),
        )
        tokens.append(credential.token)
    stranger = Ed25519PrivateKey.generate()
    forged = [sign_token(parse_token(t)[0], private_key=stranger, domain=CREDENTIAL_DOMAIN) for t in tokens]
    Path(out).write_text(json.dumps({"valid": tokens, "forged": forged}))


def _requests(tokens: list[str]):
    def make(i: int):
        client = f"10.{(i % CLIENTS) // 250}.{(i % CLIENTS) % 250}.7"
        return ("GET", f"/api/v1/verify/{tokens[i % len(tokens)]}", {"X-Forwarded-For": client}, None)

    return make


def _load(server: Server, tokens: list[str], args: argparse.Namespace, loadgen_cpus) -> dict[str, Any]:
    async def go():
        if args.warmup > 0:
            await http_load(
                server.url, connections=args.connections, duration=args.warmup, make_request=_requests(tokens)
            )
        return await http_load(
            server.url,
            connections=args.connections,
            duration=args.duration,
            max_requests=args.max_requests,
            make_request=_requests(tokens),
        )

    with pinned(loadgen_cpus):
        load = asyncio.run(go())
    return load.as_dict()


def run(args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, loadgen_cpus = (None, None) if args.no_pin else cpu_plan()
    out = "$BENCH_TMP/tokens.json"
    prepare = [
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        [
            sys.executable,
            "-c",
            f"import os; from bench.lookup import seed; seed({args.credentials}, os.environ['BENCH_TMP'] + '/tokens.json')",
        ],
    ]
    env = {"LINLI_NUM_PROXIES": "1", "LINLI_LOOKUP_RATE": "100000/s"}
    with Server.linli(cpus=server_cpus, prepare=prepare, env=env) as server:
        tokens = json.loads((server.tmp / "tokens.json").read_text())
        log.info("seeded %d credentials (%s)", len(tokens["valid"]), out)
        hello = measure_hello(
            server,
            args.duration,
            warmup=args.warmup,
            connections=args.connections,
            max_requests=args.max_requests,
            pin=not args.no_pin,
        )
        valid = _load(server, tokens["valid"], args, loadgen_cpus)
        forged = _load(server, tokens["forged"], args, loadgen_cpus)
        rss = rss_kib(server.pid)
    base = hello["rps"] or float("nan")
    figures = {
        "rps": valid["rps"],
        "ratio": round(valid["rps"] / base, 3),
        "p99_ms": valid["p99_ms"],
        "forged_rps": forged["rps"],
        "forged_ratio": round(forged["rps"] / base, 3),
        "forged_p99_ms": forged["p99_ms"],
        "baseline_rps": hello["rps"],
        "baseline_p99_ms": hello["p99_ms"],
        "targets": {"ratio": 0.8, "p99_ms": 50, "forged_ratio": 1.0},
        "met": {
            "ratio": valid["rps"] / base >= 0.8,
            "p99_ms": (valid["p99_ms"] or 1e9) <= 50,
            "forged_ratio": forged["rps"] / base >= 1.0,
        },
        "valid": valid,
        "forged": forged,
        "hello": hello,
        "server_rss_kib": rss,
        "server_cpus": server_cpus,
        "loadgen_cpus": loadgen_cpus,
    }
    if valid["non_2xx"] or forged["non_2xx"]:
        log.warning("non-2xx answers: valid %s, forged %s", valid["statuses"], forged["statuses"])
    return result("lookup", **figures)
