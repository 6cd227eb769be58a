"""Periodic work of the accounts domain (idempotent; run by the scheduler or ``run_job``).

Entries are ``(name, every, func)`` tuples: the scheduler lives above accounts."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.services import cancellations_complete, grants_expire


def _grants_expire() -> int:
    return grants_expire()


def _cancellations_complete() -> int:
    return cancellations_complete()


JOBS = [
    ("accounts.grants_expire", timedelta(minutes=1), _grants_expire),
    ("accounts.cancellations_complete", timedelta(hours=1), _cancellations_complete),
]
