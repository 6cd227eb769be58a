import logging
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from backend.notifications import scheduler

log = logging.getLogger("linli.scheduler")


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of every domain (backend/<app>/jobs.py) forever. Safe to run more "
        "than once: each job run is claimed through a database lease."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between ticks (default 5).")
        parser.add_argument("--once", action="store_true", help="Run one tick (every due job) and exit.")
        parser.add_argument(
            "--heartbeat-file",
            default="",
            help="Touch this file after every tick (for container health checks).",
        )

    def handle(self, *args, interval=5.0, once=False, heartbeat_file="", **options):
        jobs = list(scheduler.discover_jobs().values())
        owner = scheduler.default_owner()
        self.stdout.write(f"scheduler {owner}: {len(jobs)} jobs: {', '.join(j.name for j in jobs)}")
        stopping = {"flag": False}

        def stop(signum, frame):
            stopping["flag"] = True

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        beat = Path(heartbeat_file) if heartbeat_file else None
        while True:
            if not once:
                close_old_connections()  # as Django does between requests: drop dead connections
            for outcome in scheduler.run_due_jobs(owner=owner, jobs=jobs):
                status = "ok" if outcome.ok else f"FAILED {outcome.error}"
                self.stdout.write(f"{outcome.name}: {status} {outcome.result if outcome.ok else ''}".rstrip())
            if beat is not None:
                beat.touch()
            if once or stopping["flag"]:
                break
            deadline = time.monotonic() + interval
            while not stopping["flag"] and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
            if stopping["flag"]:
                break
        self.stdout.write("scheduler stopped")
