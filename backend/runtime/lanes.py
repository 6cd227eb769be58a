"""Lanes: a fixed set of threads that run the API's sync code, instead of one new thread per request.

Django's ASGI handler serves each request inside its own ``ThreadSensitiveContext``: the
request's sync code (token check, view, ORM, closing the connection) runs on a thread created for
that request, and a second thread is started to join it afterwards. A burst of 200 sign-ups thus
ran on 200 threads at once on one core. Each request spends most of its time in Python, holding
the GIL; a thread that gives it up for a query (SQLite call, PostgreSQL round trip) waits for
every other runnable thread before it runs again (up to the 5 ms switch interval each), so every
request in a burst finished at about the same, late, time. On SQLite the 30 writers of a burst
also waited in SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries while the
database is idle.

Here the lean API handler runs each request's sync code on one of ``LINLI_SYNC_LANES`` lanes
(single-thread executors that live as long as the process), the least loaded one at the time the
request starts. A request keeps its lane from start to end, as thread-sensitive code expects (the
database connection, transaction and ``close_old_connections`` stay on one thread). Requests
beyond the lanes wait their turn on the event loop, where waiting costs nothing.

Measured with ``bench/signup_burst`` on SQLite (10-15 bursts of 200 sign-ups for 10 places + 20
waitlist, server on one core, hello in the same run, a shared and loaded 2-core machine):
a thread per request 27.5 sign-ups/s (0.024 x hello), p99 15.7 s; one lane 80/s (0.136), p99
2.5 s; two lanes 91/s, p99 1.7 s; four lanes 97/s, p99 2.0 s. On PostgreSQL a request mostly
waits for round trips (200-280 µs each here), which more lanes overlap: refusals run in process
at 262/s on four lanes and 509/s on sixteen; through daphne (20 bursts, back to back) eight lanes
gave 89/s, p99 4.1 s and twenty 110/s, p99 1.8 s. Hence as many lanes as psycopg's pool has
connections (20, settings): a lane never waits for a connection, and none is opened beyond it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

DEFAULT_LANES = {"sqlite": 2, "postgresql": 20}
"""Lanes per process by database when ``LINLI_SYNC_LANES`` is not set."""


class Lanes:
    """``size`` single-thread executors and how many requests each one holds.

    Used from the event loop only (no locking): ``take`` picks the least loaded lane (the lowest
    index among equals, so a quiet server keeps using one warm thread), ``give_back`` returns it.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one lane")
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"linli-lane-{i}") for i in range(size)
        ]
        self.load = [0] * size

    def take(self) -> int:
        lane = min(range(len(self.load)), key=self.load.__getitem__)
        self.load[lane] += 1
        return lane

    def give_back(self, lane: int) -> None:
        self.load[lane] -= 1


def lane_count() -> int:
    """``LINLI_SYNC_LANES``, else the default for the configured database."""
    configured = getattr(settings, "LINLI_SYNC_LANES", 0)
    if configured:
        return max(1, int(configured))
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return DEFAULT_LANES.get("sqlite" if vendor == "sqlite3" else vendor, 4)
