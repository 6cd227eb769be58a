"""Growth: the main reads at ~10^3 and at ~10^6 rows, through the real API, and the worst ratio.

``python -m bench growth [--scale 1.0] [--small 1000] [--repeat 7] [--database-url postgres://…]``

For each size, a fresh database (SQLite in a temporary directory unless ``--database-url``; a
PostgreSQL database is flushed) gets the demo data (``manage.py seed_demo``: one account per role,
an organisation, an activity, an event, a group, an association), then the big tables are grown
inside the database by ``INSERT … SELECT`` over a generated series, copying a demo row and
varying its unique columns (minutes at 10^6, no Python per row):

- small: ``--small`` (1,000) of each;
- large: ``--scale`` x 10^6 volunteers (users and profiles) and service records, and
  ``--scale`` x 10^5 groups, filings, activities, practitioners and credentials, event passes and
  notifications (a tenth of them, half unread, for the demo volunteer who reads them).

Then Linli's real ASGI app runs under daphne on that database and each read below is requested
``--repeat`` times after one warm-up, one at a time (median latency), as the demo user of its
role. On SQLite both sizes are served at once and each read is measured at both sizes in turn,
``ROUNDS`` times (``measure_both``: the machine's drift then weighs on both sides of a ratio);
on PostgreSQL (one database) one size after the other; the number of queries each read runs is counted in a separate process through Django's
test client on the same database. Printed: per read the small and large medians, their ratio and
both query counts; ``worst_ratio`` and ``worst_read``; ``query_count_changed`` (must be empty).
A read whose answer is a whole set by design (``WHOLE_SET``: the offline bundle, every pass of its
event) also prints its items at both sizes and ``per_item_ratio``, and is judged by that.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Server, django_command, result

log = logging.getLogger("bench.growth")

GROWN_FILE = "growth-grown.json"
COUNTS_FILE = "growth-queries.json"
SEARCH_NUMBER = 777  # "/orgs?q=第777号" matches one group at every size from 777 up

# (name, role or "" for the public, path with {placeholders} filled from the grown data)
READS: list[tuple[str, str, str]] = [
    ("public_org_search", "", "/api/v1/orgs?q=%E7%AC%AC777%E5%8F%B7"),
    ("public_org_directory", "", "/api/v1/orgs"),
    ("public_org_detail", "", "/api/v1/orgs/{group_id}"),
    ("public_credential_lookup", "", "/api/v1/verify/{credential_token}"),
    ("volunteer_notifications", "volunteer", "/api/v1/me/notifications"),
    ("volunteer_notifications_unread", "volunteer", "/api/v1/me/notifications?unread=true"),
    ("volunteer_service_records", "volunteer", "/api/v1/me/service-records"),
    ("volunteer_signups", "volunteer", "/api/v1/me/signups"),
    ("volunteer_passes", "volunteer", "/api/v1/me/passes"),
    ("volunteer_activities", "volunteer", "/api/v1/activities"),
    ("reviewer_filings", "reviewer", "/api/v1/review/filings"),
    ("coordinator_event_stats", "coordinator", "/api/v1/events/{event_id}/stats"),
    ("coordinator_event_passes", "coordinator", "/api/v1/events/{event_id}/passes"),
    (
        "coordinator_org_records",
        "coordinator",
        "/api/v1/volunteer/organisations/{organisation_id}/service-records",
    ),
    ("scanner_offline_bundle", "scanner", "/api/v1/events/{event_id}/offline-bundle"),
    ("association_credentials", "association_admin", "/api/v1/associations/{association_id}/credentials"),
]
WHOLE_SET = {"scanner_offline_bundle": "event_passes"}
"""Reads whose answer is a whole set by design (the scanner's offline bundle: every pass of its
event, which the grown passes join), with the rows that count that set: such a read is judged by
its time per item (``per_item_ratio``), since its answer grows with the data."""


# --- runs inside prepare / count commands, in the server's environment ---------------------------


def _series_sql(vendor: str, table: str, columns: list[str], exprs: list[str]) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    select = ", ".join(exprs).replace("%", "%%")  # the statement has parameters: % is %%
    if vendor == "postgresql":
        return (
            f'INSERT INTO "{table}" ({cols}) SELECT {select} FROM "{table}" AS src '
            "CROSS JOIN generate_series(1, %s) AS g(n) WHERE src.id = %s"
        )
    return (
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %s) "
        f'INSERT INTO "{table}" ({cols}) SELECT {select} FROM "{table}" AS src, g WHERE src.id = %s'
    )


def padded(vendor: str, prefix: str, width: int, offset: int = 0) -> str:
    """SQL for ``prefix`` followed by the series number (+ ``offset``) padded to ``width`` digits."""
    number = f"(g.n + {offset})"
    if vendor == "postgresql":
        return f"'{prefix}' || lpad({number}::text, {width}, '0')"
    return f"'{prefix}' || printf('%0{width}d', {number})"


def clone_rows(model: Any, template_id: int, n: int, overrides: dict[str, str]) -> tuple[int, int]:
    """Insert ``n`` copies of row ``template_id`` of ``model``, columns in ``overrides`` set by SQL
    expressions over ``g.n`` (1..n), ``src`` being the template row. Returns the new ids' range
    (they are consecutive: one statement on a database nobody else writes to)."""
    from django.db import connection, models

    if n <= 0:
        return (0, -1)
    meta = model._meta
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            columns = {meta.get_field(f).column for f in constraint.fields}
            if not columns & set(overrides):
                raise ValueError(f"{meta.db_table}: vary one of {sorted(columns)}")
    for field in meta.concrete_fields:
        if field.unique and not field.primary_key and field.column not in overrides:
            raise ValueError(f"{meta.db_table}: vary {field.column}")
    columns = [f.column for f in meta.concrete_fields if not f.primary_key]
    exprs = [overrides.get(c, f'src."{c}"') for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{meta.db_table}"')
        before = cursor.fetchone()[0]
        cursor.execute(_series_sql(connection.vendor, meta.db_table, columns, exprs), [n, template_id])
        cursor.execute(f'SELECT COUNT(*), MIN(id), MAX(id) FROM "{meta.db_table}" WHERE id > %s', [before])
        count, first, last = cursor.fetchone()
    if count != n or last - first + 1 != n:
        raise RuntimeError(f"{meta.db_table}: ids of the copies are not consecutive")
    return first, last


def grow(*, volunteers: int, records: int, many: int, out: str) -> None:
    """Grow the demo data to the given sizes; write what the reads need to ``out``."""
    from django.db import connection, transaction
    from django.utils import timezone

    from backend.accounts.demo import DEMO_PHONES
    from backend.accounts.models import AuthSession, User
    from backend.accounts.tokens import access_token_issue
    from backend.checkin.models import Event, Pass
    from backend.credentials.models import Association, Credential, Practitioner
    from backend.filings.models import Filing, Group
    from backend.notifications.models import InboxCount, Notification
    from backend.volunteers.models import Activity, Organisation, ServiceRecord, VolunteerProfile

    vendor = connection.vendor
    started = time.monotonic()
    volunteer = User.objects.get(phone=DEMO_PHONES["volunteer"])
    with transaction.atomic():
        first_user, _ = clone_rows(
            User,
            volunteer.pk,
            volunteers,
            {"phone": padded(vendor, "139", 8), "firebase_uid": "NULL", "display_name": "'增长志愿者'"},
        )
        profile = VolunteerProfile.objects.get(user=volunteer)
        clone_rows(
            VolunteerProfile,
            profile.pk,
            volunteers,
            {
                "user_id": f"(g.n + {first_user - 1})",
                "volunteer_no": padded(vendor, "G", 12),
                "id_number_index": padded(vendor, "growth", 20),
            },
        )
        spread = f"({first_user} + (g.n - 1) % {max(volunteers, 1)})"
        record = ServiceRecord.objects.order_by("pk").first()
        if record is not None:
            clone_rows(
                ServiceRecord,
                record.pk,
                records,
                {"user_id": spread, "signup_id": "NULL", "external_ref": padded(vendor, "growth", 20)},
            )
        group = Group.objects.order_by("pk").first()
        assert group is not None
        clone_rows(
            Group,
            group.pk,
            many,
            {"filing_number": padded(vendor, "GROWTH", 10), "name": "'邻里互助队第' || g.n || '号'"},
        )
        filing = Filing.objects.order_by("pk").first()
        assert filing is not None
        clone_rows(Filing, filing.pk, many, {"name": "'邻里互助队第' || g.n || '号'"})
        activity = Activity.objects.filter(status=Activity.Status.PUBLISHED).order_by("pk").first()
        assert activity is not None
        clone_rows(Activity, activity.pk, many, {})
        association = Association.objects.order_by("pk").first()
        practitioner = Practitioner.objects.filter(association=association).order_by("pk").first()
        credential = Credential.objects.filter(association=association).order_by("pk").first()
        assert association is not None and practitioner is not None and credential is not None
        first_practitioner, _ = clone_rows(
            Practitioner, practitioner.pk, many, {"id_number_index": padded(vendor, "growth", 20)}
        )
        clone_rows(
            Credential,
            credential.pk,
            many,
            {
                "practitioner_id": f"(g.n + {first_practitioner - 1})",
                "token_id": padded(vendor, "growth", 26),
                "certificate_no": padded(vendor, "GROWTH", 12),
            },
        )
        event = Event.objects.order_by("pk").first()
        a_pass = Pass.objects.filter(event=event).order_by("pk").first()
        assert event is not None and a_pass is not None
        clone_rows(
            Pass,
            a_pass.pk,
            many,
            {"token_id": padded(vendor, "growth", 26), "signup_id": "NULL", "holder_id": "NULL"},
        )
        note = Notification.objects.filter(user=volunteer).order_by("pk").first()
        assert note is not None
        clone_rows(
            Notification,
            note.pk,
            many,
            {
                "user_id": f"CASE WHEN g.n % 10 = 0 THEN {volunteer.pk} ELSE {spread} END",
                "read_at": "CASE WHEN g.n % 2 = 0 THEN NULL ELSE src.created_at END",
                "dedupe_key": "NULL",
            },
        )
        # The kept unread counts, as the migration starts them.
        InboxCount.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{InboxCount._meta.db_table}" (user_id, unread) SELECT user_id, COUNT(*) '
                f'FROM "{Notification._meta.db_table}" WHERE read_at IS NULL GROUP BY user_id'
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    tokens = {}
    for role, phone in DEMO_PHONES.items():
        user = User.objects.get(phone=phone)
        session = AuthSession.objects.create(user=user, method="bench")
        tokens[role] = access_token_issue(user_id=user.pk, session_id=session.pk, ttl=6 * 3600)[0]
    organisation = Organisation.objects.order_by("pk").first()
    assert organisation is not None
    data = {
        "tokens": tokens,
        "group_id": group.pk,
        "credential_token": credential.token,
        "event_id": event.pk,
        "organisation_id": organisation.pk,
        "association_id": association.pk,
        "grow_seconds": round(time.monotonic() - started, 1),
        "rows": {
            "users": User.objects.count(),
            "service_records": ServiceRecord.objects.count(),
            "groups": Group.objects.count(),
            "activities": Activity.objects.count(),
            "credentials": Credential.objects.count(),
            "passes": Pass.objects.count(),
            "event_passes": Pass.objects.filter(event=event).count(),
            "notifications": Notification.objects.count(),
            "volunteer_notifications": Notification.objects.filter(user=volunteer).count(),
        },
        "at": timezone.now().isoformat(),
    }
    Path(out).write_text(json.dumps(data))


def count_queries(*, grown: str, out: str) -> None:
    """Each read's query count and status through Django's test client (same database)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    data = json.loads(Path(grown).read_text())
    client = Client()
    counts = {}
    for name, role, template in READS:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {data['tokens'][role]}"} if role else {}
        path = template.format(**data)
        client.get(path, **headers)  # warm: compiled queries, caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **headers)
        counts[name] = {"queries": len(queries.captured_queries), "status": response.status_code}
    Path(out).write_text(json.dumps(counts))


# --- the measurement --------------------------------------------------------------------------


def _median_ms(server: Server, path: str, token: str, repeat: int) -> tuple[float, int]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=120)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timings = []
    status = 0
    try:
        for i in range(repeat + 1):
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if i:  # the first one warms up
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return statistics.median(timings), status


def _size_server(args: argparse.Namespace, *, volunteers: int, records: int, many: int) -> Server:
    """A server (not started) on a fresh database of the given size, grown when it starts."""
    env = {"LINLI_REDIS_PREFIX": f"linli-bench-growth-{os.getpid()}", "REDIS_URL": "", "DEBUG": "0"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    grow_code = (
        f"grow(volunteers={volunteers}, records={records}, many={many}, "
        f"out=os.path.join(os.environ['BENCH_TMP'], {GROWN_FILE!r}))"
    )
    prepare = [[sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]]
    if args.database_url:
        prepare.append([sys.executable, "manage.py", "flush", "--noinput", "-v", "0"])
    prepare += [[sys.executable, "manage.py", "seed_demo"], django_command("bench.growth", grow_code)]
    return Server.linli(env=env, prepare=prepare, prepare_timeout=7200)


def _counted(server: Server) -> dict[str, Any]:
    server.run_django(
        "bench.growth",
        f"count_queries(grown=os.path.join(os.environ['BENCH_TMP'], {GROWN_FILE!r}), "
        f"out=os.path.join(os.environ['BENCH_TMP'], {COUNTS_FILE!r}))",
        timeout=600,
    )
    return json.loads((server.tmp / COUNTS_FILE).read_text())


def _read_once(
    server: Server, data: dict[str, Any], role: str, template: str, repeat: int
) -> tuple[float, int]:
    return _median_ms(server, template.format(**data), data["tokens"][role] if role else "", repeat)


def measure_size(args: argparse.Namespace, *, volunteers: int, records: int, many: int) -> dict[str, Any]:
    """Build one size and measure every read on it (PostgreSQL: one database, one size at a time)."""
    started = time.monotonic()
    with _size_server(args, volunteers=volunteers, records=records, many=many) as server:
        built = time.monotonic() - started
        data = json.loads((server.tmp / GROWN_FILE).read_text())
        reads = {}
        for name, role, template in READS:
            median, status = _read_once(server, data, role, template, args.repeat)
            reads[name] = {"median_ms": round(median, 2), "status": status}
        counts = _counted(server)
    for name in reads:
        reads[name]["queries"] = counts[name]["queries"]
    return {"rows": data["rows"], "build_seconds": round(built, 1), "reads": reads}


ROUNDS = 2
"""SQLite: each read is measured this many times at each size, alternately. The public reads
share one rate limit per client (60 a minute): three reads x 8 requests x 2 rounds stay below
it; three rounds did not (429s, reported in ``not_ok``)."""


def measure_both(args: argparse.Namespace, sizes: list[dict[str, int]]) -> list[dict[str, Any]]:
    """SQLite: both sizes built (a database each) and served at once; each read is measured at
    the small size, then the large, ``ROUNDS`` times over, and each size keeps the median of its
    rounds. Measured one size after the other, minutes apart, a shared machine's drift moved
    every ratio together: the same code gave a worst ratio of 1.35 in one run and 1.84 in the
    next, every read of the second 1.2-1.8 x where the first had 0.9-1.35 x."""
    with contextlib.ExitStack() as stack:
        servers, built, data = [], [], []
        for size in sizes:
            started = time.monotonic()
            servers.append(stack.enter_context(_size_server(args, **size)))
            built.append(round(time.monotonic() - started, 1))
            data.append(json.loads((servers[-1].tmp / GROWN_FILE).read_text()))
        timings: list[dict[str, list[float]]] = [{} for _ in sizes]
        statuses: list[dict[str, int]] = [{} for _ in sizes]
        for _round in range(ROUNDS):
            for name, role, template in READS:
                for i, server in enumerate(servers):
                    median, status = _read_once(server, data[i], role, template, args.repeat)
                    timings[i].setdefault(name, []).append(median)
                    statuses[i][name] = status
        counts = [_counted(server) for server in servers]
    return [
        {
            "rows": data[i]["rows"],
            "build_seconds": built[i],
            "reads": {
                name: {
                    "median_ms": round(statistics.median(timings[i][name]), 2),
                    "status": statuses[i][name],
                    "queries": counts[i][name]["queries"],
                }
                for name in timings[i]
            },
        }
        for i in range(len(sizes))
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0, help="large size x this (default 1: 10^6 / 10^5)")
    parser.add_argument("--small", type=int, default=1000, help="rows of each kind at the small size")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per read (median; default 7)")
    parser.add_argument("--database-url", default="", help="run on this database instead of SQLite")


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [
        {"volunteers": args.small, "records": args.small, "many": args.small},
        {
            "volunteers": int(1_000_000 * args.scale),
            "records": int(1_000_000 * args.scale),
            "many": int(100_000 * args.scale),
        },
    ]
    if args.database_url:
        small, large = (measure_size(args, **size) for size in sizes)
    else:
        small, large = measure_both(args, sizes)
    reads: dict[str, dict[str, Any]] = {}
    for name in small["reads"]:
        s, g = small["reads"][name], large["reads"][name]
        reads[name] = {
            "small_ms": s["median_ms"],
            "large_ms": g["median_ms"],
            "ratio": round(g["median_ms"] / s["median_ms"], 2) if s["median_ms"] else None,
            "queries": [s["queries"], g["queries"]],
            "status": [s["status"], g["status"]],
        }
        counted = WHOLE_SET.get(name)
        if counted and s["median_ms"] and small["rows"][counted] and large["rows"][counted]:
            items = [small["rows"][counted], large["rows"][counted]]
            reads[name]["items"] = items
            reads[name]["per_item_ratio"] = round(
                (g["median_ms"] / items[1]) / (s["median_ms"] / items[0]), 2
            )

    def judged(name: str) -> float:
        return reads[name].get("per_item_ratio", reads[name]["ratio"]) or 0

    worst = max(reads, key=judged)
    return result(
        "growth",
        database="postgresql" if args.database_url else "sqlite",
        scale=args.scale,
        rows_small=small["rows"],
        rows_large=large["rows"],
        build_seconds=[small["build_seconds"], large["build_seconds"]],
        worst_ratio=judged(worst),
        worst_read=worst,
        query_count_changed=[n for n, r in reads.items() if r["queries"][0] != r["queries"][1]],
        not_ok=[n for n, r in reads.items() if any(s != 200 for s in r["status"])],
        reads=reads,
    )
