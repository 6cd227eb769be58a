"""GET /api/v1/activities search at a small and a large size: latency, queries and query plans.

``python -m bench activity_search [--small 1000] [--large 100000] [--database-url postgres://…]``
builds ``--small`` published activities (each with an upcoming shift, a place around Shenzhen,
a Chinese title and description from a fixed vocabulary, sometimes a required skill), measures
each search below through the real API in this process (Django's test client, no server: the
figure is the work of the query, not of HTTP), then grows the same tables to ``--large`` and
measures again. Each figure is the median of ``--repeat`` calls after one warm-up call; both
sizes are measured in the same process on the same database (a fresh SQLite file unless
``--database-url``; that database is flushed first). Prints, per search, the small and large
median in ms, their ratio and the query count, the worst ratio, and the plans of the searches at
the large size (``EXPLAIN`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

Rows are written in bulk (COPY on PostgreSQL, executemany on SQLite) and the tables analysed, as
autovacuum (PostgreSQL) or ``PRAGMA optimize`` (SQLite) would after such a load.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from typing import Any

log = logging.getLogger("bench.activity_search")

CENTRE = (22.62, 114.03)
WORDS = [
    "社区",
    "合唱",
    "环保",
    "敬老",
    "助残",
    "U站",
    "值守",
    "巡河",
    "垃圾分类",
    "交通",
    "文明",
    "引导",
    "关爱",
    "儿童",
    "图书",
    "义诊",
    "法律",
    "咨询",
    "清洁",
    "绿道",
    "公园",
    "探访",
    "独居",
    "老人",
    "防疫",
    "献血",
    "科普",
    "讲座",
    "书法",
    "剪纸",
    "舞蹈",
    "手语",
    "急救",
    "植树",
    "节水",
    "反诈",
]
RARE = "珊瑚礁"  # in one activity in 5,000
SKILLS = ["急救", "手语", "摄影", "外语", "驾驶", "心理"]

SEARCHES: dict[str, dict[str, Any]] = {
    "list": {},
    "q_2chars": {"q": "合唱"},
    "q_1char": {"q": "诊"},
    "q_rare_3chars": {"q": RARE},
    "q_2terms": {"q": "敬老 探访"},
    "near_5km": {"lat": CENTRE[0], "lon": CENTRE[1], "radius_km": 5},
    "near_2km_gcj02_q": {"lat": 22.6173, "lon": 114.0349, "coord": "gcj02", "radius_km": 2, "q": "环保"},
    "skills": {"skills": "手语"},
    "has_space_programme": {"has_space": "true", "programme": "river"},
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--small", type=int, default=1000, help="activities at the small size (1000)")
    parser.add_argument("--large", type=int, default=100_000, help="activities at the large size (100000)")
    parser.add_argument("--repeat", type=int, default=7, help="measured calls per search (median; 7)")
    parser.add_argument(
        "--database-url", default="", help="this database (flushed) instead of a new SQLite file"
    )


def _setup(database_url: str, tmp: str) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("NO_GCE_CHECK", "true")
    os.environ["REDIS_URL"] = ""
    os.environ["LINLI_PUBLIC_BROWSE_RATE"] = "100000000/m"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if database_url:
        call_command("flush", verbosity=0, interactive=False)


def _text(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(words))


def _grow(target: int, rng: random.Random, fixtures: dict[str, Any]) -> None:
    """Add activities (one upcoming shift each, tokens written as the services write them) until
    there are ``target``."""
    from django.db import connection
    from django.utils import timezone

    from backend.core.geo import geocell
    from backend.core.textsearch import tag_token, tokens
    from backend.volunteers.models import Activity, ActivitySearchToken, Shift

    have = Activity.objects.count()
    start = timezone.now() + timedelta(days=2)
    batch = 5000
    while have < target:
        n = min(batch, target - have)
        rows = []
        for i in range(n):
            lat = CENTRE[0] + rng.uniform(-0.2, 0.2)
            lon = CENTRE[1] + rng.uniform(-0.3, 0.3)
            title = _text(rng, 3) + ("活动" if i % 2 else "服务")
            description = _text(rng, 8) + (RARE if rng.random() < 1 / 5000 else "")
            rows.append(
                Activity(
                    organisation=fixtures["org"],
                    division=fixtures["division"],
                    programme="river" if rng.random() < 0.2 else "red_vest",
                    title=title,
                    description=description,
                    place="深圳",
                    status=Activity.Status.PUBLISHED,
                    published_at=start,
                    required_skills=[rng.choice(SKILLS)] if rng.random() < 0.3 else [],
                    latitude=lat,
                    longitude=lon,
                    geocell=geocell(lat, lon),
                )
            )
        made = Activity.objects.bulk_create(rows, batch_size=1000)
        if made[0].pk is None:  # backends that don't return ids on bulk insert
            made = list(Activity.objects.order_by("-id")[:n])[::-1]
        Shift.objects.bulk_create(
            [
                Shift(
                    activity=a,
                    starts_at=start + timedelta(hours=rng.randint(0, 24 * 30)),
                    ends_at=start + timedelta(days=31),
                    capacity=10,
                    taken=10 if rng.random() < 0.3 else rng.randint(0, 9),
                )
                for a in made
            ],
            batch_size=1000,
        )
        pairs = [
            (t, a.pk)
            for a in made
            for t in tokens([a.title, a.description]) | {tag_token(s) for s in a.required_skills}
        ]
        table = ActivitySearchToken._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} (token, owner_id) FROM STDIN") as copy:
                    for pair in pairs:
                        copy.write_row(pair)
            else:
                cursor.executemany(f"INSERT INTO {table} (token, owner_id) VALUES (%s, %s)", pairs)
        have += n
        log.info("activities: %d", have)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _measure(repeat: int) -> dict[str, dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    out = {}
    for name, params in SEARCHES.items():
        client.get("/api/v1/activities", params)  # warm-up
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get("/api/v1/activities", params)
                times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.content
        body = response.json()
        out[name] = {
            "ms": round(statistics.median(times), 2),
            "queries": len(captured.captured_queries),
            "items": len(body["items"]),
        }
    return out


def _plans() -> dict[str, list[str]]:
    """The plans of the searches' page queries, as the selector builds them."""
    from django.utils import timezone

    from backend.volunteers import search, selectors

    now = timezone.now()
    plans = {}
    queries = {
        "q_2chars": selectors.ActivityQuery(q="合唱"),
        "q_rare_3chars": selectors.ActivityQuery(q=RARE),
        "near_5km": selectors.ActivityQuery(near=search.Near(lat=CENTRE[0], lon=CENTRE[1], radius_m=5000)),
        "skills": selectors.ActivityQuery(skills=["手语"]),
    }
    for name, query in queries.items():
        qs = selectors._activities_found(query, now=now)
        if query.near is not None:
            near = query.near
            qs = qs.filter(search.near_q(near)).annotate(distance_m=search.distance_expr(near))
            qs = qs.filter(distance_m__lte=near.radius_m).order_by("distance_m", "pk")
        else:
            qs = qs.order_by("-pk")
        plans[name] = qs[:21].explain().splitlines()
    return plans


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="linli-bench-search-") as tmp:
        _setup(args.database_url, tmp)
        from django.db import connection

        from backend.divisions.models import Division
        from backend.volunteers.models import Organisation

        division = Division.objects.create(code="440309002", name="民治街道", level=4)
        fixtures = {
            "division": division,
            "org": Organisation.objects.create(name="基准协会", division=division),
        }
        rng = random.Random(20261205)
        began = time.perf_counter()
        _grow(args.small, rng, fixtures)
        small = _measure(args.repeat)
        _grow(args.large, rng, fixtures)
        build_s = time.perf_counter() - began
        large = _measure(args.repeat)
        plans = _plans()
        searches = {
            name: {
                "small_ms": small[name]["ms"],
                "large_ms": large[name]["ms"],
                "ratio": round(large[name]["ms"] / small[name]["ms"], 2),
                "queries": [small[name]["queries"], large[name]["queries"]],
                "items_large": large[name]["items"],
            }
            for name in SEARCHES
        }
        return {
            "database": connection.vendor,
            "small": args.small,
            "large": args.large,
            "build_s": round(build_s, 1),
            "searches": searches,
            "worst_ratio": max(s["ratio"] for s in searches.values()),
            "plans_large": plans,
        }
