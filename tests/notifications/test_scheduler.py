"""The scheduler: job registry contract, leases (no double runs), runs by hand."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from backend.notifications import scheduler
from backend.notifications.errors import JobBusy, UnknownJob
from backend.notifications.models import ScheduledJob
from backend.notifications.scheduler import Job

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
calls: list[str] = []


def record():
    calls.append("ran")
    return len(calls)


def explode():
    raise RuntimeError("database on fire")


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


def test_tuples_become_jobs():
    job = scheduler.as_job(("volunteers.shift_reminders", 300, record))
    assert job == Job(name="volunteers.shift_reminders", every=timedelta(seconds=300), func=record)
    assert scheduler.as_job(("a.b", timedelta(hours=1), record)).every == timedelta(hours=1)


@pytest.mark.parametrize(
    "spec", [("", 60, record), ("a.b", 0, record), ("a.b", 60, "not callable"), ("a.b", 60)]
)
def test_bad_job_specs_are_refused(spec):
    with pytest.raises(ValueError):
        scheduler.as_job(spec)


def test_discovery_finds_the_apps_jobs_modules():
    jobs = scheduler.discover_jobs()
    assert {"notifications.deliver_due", "notifications.prune"} <= set(jobs)
    assert all(isinstance(job, Job) for job in jobs.values())


JOB = Job(name="test.record", every=timedelta(minutes=10), func=record, timeout=timedelta(minutes=5))


@pytest.mark.django_db
def test_a_due_job_runs_once_per_period():
    with time_machine.travel(T0, tick=False):
        assert [o.ok for o in scheduler.run_due_jobs(owner="a", jobs=[JOB])] == [True]
        assert scheduler.run_due_jobs(owner="b", jobs=[JOB]) == []  # not due again yet
    with time_machine.travel(T0 + timedelta(minutes=9), tick=False):
        assert scheduler.run_due_jobs(owner="b", jobs=[JOB]) == []
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        assert len(scheduler.run_due_jobs(owner="b", jobs=[JOB])) == 1
    row = ScheduledJob.objects.get(name="test.record")
    assert (row.runs, row.last_status, row.last_result, row.lease_owner) == (2, "ok", "2", "")
    assert calls == ["ran", "ran"]


@pytest.mark.django_db
def test_a_held_lease_keeps_others_out_until_it_expires():
    with time_machine.travel(T0, tick=False):
        assert scheduler.job_claim_due(job=JOB, owner="crashed")  # and never releases
    ScheduledJob.objects.filter(name=JOB.name).update(next_run_at=T0)  # due again, say
    with time_machine.travel(T0 + timedelta(minutes=4), tick=False):
        assert not scheduler.job_claim_due(job=JOB, owner="other")
        with pytest.raises(JobBusy):
            scheduler.run_job(name=JOB.name, owner="hand", jobs={JOB.name: JOB})
    with time_machine.travel(T0 + timedelta(minutes=5, seconds=1), tick=False):
        assert scheduler.job_claim_due(job=JOB, owner="other")
    assert ScheduledJob.objects.get(name=JOB.name).lease_owner == "other"


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_run_a_job_once():
    barrier = threading.Barrier(2)
    outcomes = []

    def tick(owner):
        try:
            barrier.wait(timeout=5)
            outcomes.extend(scheduler.run_due_jobs(owner=owner, jobs=[JOB]))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick, args=(f"scheduler-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert calls == ["ran"]
    assert len(outcomes) == 1


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_releases_its_lease():
    job = Job(name="test.explode", every=timedelta(minutes=1), func=explode)
    [outcome] = scheduler.run_due_jobs(owner="a", jobs=[job])
    assert not outcome.ok and "database on fire" in outcome.error
    row = ScheduledJob.objects.get(name="test.explode")
    assert row.last_status == "error" and "RuntimeError" in row.last_error
    assert row.lease_owner == "" and row.lease_until is None


@pytest.mark.django_db
def test_run_job_by_hand_ignores_the_schedule():
    jobs = {JOB.name: JOB}
    scheduler.run_due_jobs(owner="a", jobs=[JOB])
    outcome = scheduler.run_job(name=JOB.name, jobs=jobs)
    assert outcome.ok and calls == ["ran", "ran"]
    with pytest.raises(UnknownJob):
        scheduler.run_job(name="nope", jobs=jobs)


@pytest.mark.django_db
def test_run_job_command(monkeypatch, capsys):
    monkeypatch.setattr(
        scheduler,
        "discover_jobs",
        lambda: {
            JOB.name: JOB,
            "test.explode": Job(name="test.explode", every=timedelta(minutes=1), func=explode),
        },
    )
    call_command("run_job", "test.record")
    assert calls == ["ran"] and "test.record: 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Unknown job"):
        call_command("run_job", "test.nope")
    with pytest.raises(CommandError, match="database on fire"):
        call_command("run_job", "test.explode")
    call_command("run_job", "--list")
    assert "test.record\tevery 600 s" in capsys.readouterr().out


@pytest.mark.django_db
def test_run_scheduler_once_runs_the_due_jobs(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(scheduler, "discover_jobs", lambda: {JOB.name: JOB})
    beat = tmp_path / "alive"
    call_command("run_scheduler", "--once", "--heartbeat-file", str(beat))
    call_command("run_scheduler", "--once")  # not due: runs nothing
    assert calls == ["ran"]
    assert beat.exists()
    assert "test.record: ok 1" in capsys.readouterr().out
