"""Periodic jobs: the registry contract, discovery, leases and the run loop.

Contract for every domain
    ``backend/<app>/jobs.py`` exposes ``JOBS``, a list of ``Job(name=..., every=timedelta(...),
    func=...)`` or plain ``(name, every_seconds, func)`` tuples. ``func`` takes no arguments, is
    idempotent (running it twice, or late, does no harm: use ``notify(dedupe_key=...)``,
    conditional updates) and may return something printable (a count, a dict) for the record.
    Names are dotted and unique: ``"<app>.<what>"``, e.g. ``"volunteers.shift_reminders"``.

Locks
    Each job has a ``ScheduledJob`` row. A scheduler runs a job only after a single conditional
    UPDATE has moved its ``next_run_at`` forward and taken its lease (due, lease free → lease is
    ours), which is atomic on SQLite and PostgreSQL: of two schedulers, one wins, the other sees
    0 rows. A crashed runner's lease expires after the job's ``timeout``. ``manage.py run_job``
    takes the same lease, so a run by hand never overlaps a scheduled one.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from backend.notifications.errors import JobBusy, UnknownJob
from backend.notifications.models import ScheduledJob

log = logging.getLogger("linli.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: Callable[[], Any]
    timeout: timedelta = timedelta(minutes=15)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or len(self.name) > 100:
            raise ValueError(f"Job name must be a non-empty string of at most 100 characters: {self.name!r}")
        if not isinstance(self.every, timedelta) or self.every <= timedelta(0):
            raise ValueError(f"Job {self.name!r}: every must be a positive timedelta.")
        if not callable(self.func):
            raise ValueError(f"Job {self.name!r}: func must be callable.")
        if self.timeout <= timedelta(0):
            raise ValueError(f"Job {self.name!r}: timeout must be positive.")


JobSpec = Job | tuple


def as_job(spec: JobSpec) -> Job:
    """A ``Job`` from a ``Job`` or a ``(name, every_seconds | timedelta, func)`` tuple."""
    if isinstance(spec, Job):
        return spec
    if isinstance(spec, tuple) and len(spec) == 3:
        name, every, func = spec
        if isinstance(every, (int, float)) and not isinstance(every, bool):
            every = timedelta(seconds=every)
        return Job(name=name, every=every, func=func)
    raise ValueError(f"Not a job: {spec!r}; use Job(...) or (name, every_seconds, func).")


def jobs_of_module(module: Any) -> list[Job]:
    return [as_job(spec) for spec in getattr(module, "JOBS", [])]


def discover_jobs() -> dict[str, Job]:
    """Every job of the installed apps' ``<app>.jobs`` modules, by name (names must be unique)."""
    found: dict[str, Job] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("backend."):
            continue
        module_name = f"{config.name}.jobs"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        for job in jobs_of_module(module):
            if job.name in found:
                raise ValueError(f"Job name {job.name!r} is defined twice ({module_name}).")
            found[job.name] = job
    return found


def default_owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{get_random_string(8)}"


# --- leases --------------------------------------------------------------------------------------


def _ensure_row(job: Job, now: datetime) -> None:
    if ScheduledJob.objects.filter(name=job.name).exists():
        return
    try:
        with transaction.atomic():
            ScheduledJob.objects.create(name=job.name, next_run_at=now)
    except IntegrityError:
        pass  # another scheduler created it first


def _lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def job_claim_due(*, job: Job, owner: str, now: datetime | None = None) -> bool:
    """Take ``job`` if it is due and nobody holds it; moves its next run forward. True if ours."""
    now = now or timezone.now()
    _ensure_row(job, now)
    taken = (
        ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now)
        .filter(_lease_free(now))
        .update(
            lease_owner=owner, lease_until=now + job.timeout, next_run_at=now + job.every, last_started_at=now
        )
    )
    return taken == 1


def job_claim_now(*, job: Job, owner: str, now: datetime | None = None) -> bool:
    """Take ``job`` for a run by hand (due or not) if nobody holds it. True if ours."""
    now = now or timezone.now()
    _ensure_row(job, now)
    taken = (
        ScheduledJob.objects.filter(name=job.name)
        .filter(_lease_free(now))
        .update(lease_owner=owner, lease_until=now + job.timeout, last_started_at=now)
    )
    return taken == 1


def job_release(*, job: Job, owner: str, ok: bool, result: str = "", error: str = "") -> None:
    ScheduledJob.objects.filter(name=job.name, lease_owner=owner).update(
        lease_owner="",
        lease_until=None,
        last_finished_at=timezone.now(),
        last_status="ok" if ok else "error",
        last_result=result[:2000],
        last_error=error[-4000:],
        runs=F("runs") + 1,
    )


@dataclass(frozen=True)
class JobOutcome:
    name: str
    ok: bool
    result: Any = None
    error: str = ""


def _run_claimed(job: Job, owner: str) -> JobOutcome:
    log.info("job %s started", job.name)
    try:
        result = job.func()
    except Exception as exc:
        log.exception("job %s failed", job.name)
        job_release(job=job, owner=owner, ok=False, error=traceback.format_exc())
        return JobOutcome(job.name, ok=False, error=f"{type(exc).__name__}: {exc}")
    job_release(job=job, owner=owner, ok=True, result="" if result is None else str(result))
    log.info("job %s finished: %s", job.name, result)
    return JobOutcome(job.name, ok=True, result=result)


def run_due_jobs(
    *, owner: str, jobs: Iterable[Job] | None = None, now: datetime | None = None
) -> list[JobOutcome]:
    """One scheduler tick: run every due job this process can claim, one after another."""
    outcomes = []
    for job in jobs if jobs is not None else discover_jobs().values():
        if job_claim_due(job=job, owner=owner, now=now):
            outcomes.append(_run_claimed(job, owner))
    return outcomes


def run_job(*, name: str, owner: str | None = None, jobs: dict[str, Job] | None = None) -> JobOutcome:
    """Run one job by hand, under its lease. Raises ``UnknownJob`` or ``JobBusy``."""
    registry = jobs if jobs is not None else discover_jobs()
    job = registry.get(name)
    if job is None:
        raise UnknownJob(name=name, known=sorted(registry))
    owner = owner or default_owner()
    if not job_claim_now(job=job, owner=owner):
        raise JobBusy(name=name)
    return _run_claimed(job, owner)
