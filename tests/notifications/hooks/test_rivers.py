"""End-to-end notification hooks of rivers: cause through the API or a job, outbox, stand-in FCM."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.factories import UserFactory
from tests.helpers import ApiClient, assert_error
from tests.notifications.hooks.support import expect_nothing, expect_push, phone, run_job, travel

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# === rivers (issue 8) ============================================================================


@dataclass
class River:
    segment: Any
    handler: Any
    chief: Any
    reporter: Any
    worker: Any

    def report(self, **extra) -> int:
        body = {
            "type": "sewage_discharge",
            "lat": 22.63012345,
            "lon": 114.03256789,
            "description": "排污口有黑色污水流入河道，气味刺鼻。",
            "segment_id": self.segment.pk,
            **extra,
        }
        r = ApiClient(self.reporter).post("/river-issues", body)
        assert r.status_code == 201, r.json()
        return r.json()["id"]

    def step(self, user, issue_id: int, action: str, body: dict | None = None) -> dict:
        r = ApiClient(user).post(f"/river-issues/{issue_id}/{action}", body)
        assert r.status_code == 200, r.json()
        return r.json()

    def assigned(self) -> int:
        issue_id = self.report()
        self.step(self.handler, issue_id, "accept")
        self.step(self.handler, issue_id, "assign", {"assignee_id": self.worker.pk})
        return issue_id

    def resolve(self, issue_id: int) -> None:
        """The assignee uploads a photo of the result and reports the fix."""
        from tests.rivers import factories as rf

        r = ApiClient(self.worker).upload(
            f"/river-issues/{issue_id}/photos", {"photo": ("fix.jpg", rf.jpeg_with_gps(), "image/jpeg")}
        )
        assert r.status_code == 201, r.json()
        self.step(self.worker, issue_id, "resolve", {"resolution": "排污口已封堵，责令整改。"})

    def resolved(self) -> int:
        issue_id = self.assigned()
        self.resolve(issue_id)
        return issue_id


@pytest.fixture
def river(db) -> River:
    from tests.rivers import factories as rf

    segment = rf.river_with_segment()
    return River(
        segment=segment,
        handler=rf.handler_of(rf.STREET, display_name="李处置"),
        chief=rf.river_chief(segment, name="王河长"),
        reporter=UserFactory(display_name="陈小明"),
        worker=rf.handler_of(rf.STREET, display_name="刘执法"),
    )


def issue(issue_id: int):
    from backend.rivers.models import RiverIssue

    return RiverIssue.objects.get(pk=issue_id)


def test_reported_river_issue_reaches_the_divisions_handlers(river, fcm_standin, committed):
    handler = phone(fcm_standin, river.handler)
    with committed():
        issue_id = river.report()
    note = expect_push(handler, "river_issue.reported", issue(issue_id))
    assert "观澜河" in note.body and "民治段" in note.body
    assert handler.new_kinds() == ["river_issue.reported"]


def test_accepted_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.report()
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "accept")
    expect_push(reporter, "river_issue.accepted", issue(issue_id))
    assert reporter.new_kinds() == ["river_issue.accepted"]


def test_rejected_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.report()
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "reject", {"reason": "位置不在本河段"})
    note = expect_push(reporter, "river_issue.rejected", issue(issue_id))
    assert "位置不在本河段" in note.body
    assert reporter.new_kinds() == ["river_issue.rejected"]


@pytest.mark.django_db(transaction=True)
def test_assigned_river_issue_is_pushed_urgently_to_the_assignee(river, fcm_standin):
    issue_id = river.report()
    river.step(river.handler, issue_id, "accept")
    worker = phone(fcm_standin, river.worker)
    river.step(river.handler, issue_id, "assign", {"assignee_id": river.worker.pk})
    note = expect_push(worker, "river_issue.assigned", issue(issue_id), urgent=True)
    assert "观澜河 民治段" in note.body
    assert worker.new_kinds() == ["river_issue.assigned"]


@pytest.mark.django_db(transaction=True)
def test_assignment_to_a_non_handler_writes_and_sends_nothing(river, fcm_standin):
    issue_id = river.report()
    river.step(river.handler, issue_id, "accept")
    outsider = phone(fcm_standin, river.reporter)
    r = ApiClient(river.handler).post(f"/river-issues/{issue_id}/assign", {"assignee_id": river.reporter.pk})
    assert_error(r, 422, "not_a_handler")
    assert issue(issue_id).status == "accepted"
    expect_nothing("river_issue.assigned", outsider)


def test_resolved_river_issue_asks_the_reporter_and_the_river_chief_to_verify(river, fcm_standin, committed):
    issue_id = river.assigned()
    reporter, chief = phone(fcm_standin, river.reporter), phone(fcm_standin, river.chief)
    with committed():
        river.resolve(issue_id)
    for ph in (reporter, chief):
        note = expect_push(ph, "river_issue.resolved", issue(issue_id))
        assert "排污口已封堵" in note.body
        assert ph.new_kinds() == ["river_issue.resolved"]


def test_verified_river_issue_reaches_the_assignee_and_the_handlers(river, fcm_standin, committed):
    issue_id = river.resolved()
    worker, handler = phone(fcm_standin, river.worker), phone(fcm_standin, river.handler)
    with committed():
        river.step(river.chief, issue_id, "verify", {"confirmed": True})
    for ph in (worker, handler):
        expect_push(ph, "river_issue.verified", issue(issue_id))
        assert ph.new_kinds() == ["river_issue.verified"]


def test_failed_verification_sends_the_issue_back_to_the_assignee(river, fcm_standin, committed):
    issue_id = river.resolved()
    worker = phone(fcm_standin, river.worker)
    with committed():
        river.step(river.reporter, issue_id, "verify", {"confirmed": False, "note": "仍有污水流出"})
    note = expect_push(worker, "river_issue.reopened", issue(issue_id), urgent=True)
    assert "仍有污水流出" in note.body
    assert worker.new_kinds() == ["river_issue.reopened"]


def test_closed_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.resolved()
    river.step(river.chief, issue_id, "verify", {"confirmed": True})
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "close")
    expect_push(reporter, "river_issue.closed", issue(issue_id))
    assert reporter.new_kinds() == ["river_issue.closed"]


def test_overdue_river_issue_reaches_its_assignee(river, fcm_standin, committed):
    issue_id = river.assigned()
    worker, handler = phone(fcm_standin, river.worker), phone(fcm_standin, river.handler)
    with travel(issue(issue_id).due_at + timedelta(hours=1)), committed():
        run_job("rivers.flag_overdue_issues")
        run_job("rivers.flag_overdue_issues")  # flagged once
    expect_push(worker, "river_issue.overdue", issue(issue_id))
    assert worker.new_kinds() == ["river_issue.overdue"]
    assert handler.new_requests() == []  # the assignee holds it, not the whole division


def _upload_body(segment, walk, client_id: str) -> dict:
    return {
        "client_id": client_id,
        "segment_id": segment.pk,
        "started_at": (walk.fixes[0].at - timedelta(seconds=20)).isoformat(),
        "finished_at": (walk.fixes[-1].at + timedelta(seconds=20)).isoformat(),
        "datum": "wgs84",
        "points": [x.json() for x in walk.fixes],
    }


def test_valid_patrol_tells_the_steward_the_hours_credited(river, fcm_standin, committed):
    from backend.rivers.models import Patrol
    from tests.rivers import factories as rf

    walk = rf.riverside_walk()
    steward = phone(fcm_standin, river.chief)
    with committed():
        r = ApiClient(river.chief).post("/patrols:upload", _upload_body(river.segment, walk, "hooks-valid"))
    assert r.status_code == 201 and r.json()["is_valid"] is True, r.json()
    note = expect_push(steward, "patrol.credited", Patrol.objects.get(pk=r.json()["id"]))
    assert "0.5" in note.body
    assert steward.new_kinds() == ["patrol.credited"]


def test_short_patrol_tells_the_steward_why_it_does_not_count(river, fcm_standin, committed):
    from backend.rivers.models import Patrol
    from tests.rivers import factories as rf

    walk = rf.riverside_walk(length_m=400, teleport=False, poor_fixes=0)
    steward = phone(fcm_standin, river.chief)
    with committed():
        r = ApiClient(river.chief).post("/patrols:upload", _upload_body(river.segment, walk, "hooks-short"))
    assert r.status_code == 201 and r.json()["is_valid"] is False, r.json()
    note = expect_push(steward, "patrol.invalid", Patrol.objects.get(pk=r.json()["id"]))
    assert "10 分钟" in note.body
    assert steward.new_kinds() == ["patrol.invalid"]


# === credentials (issue 5) =======================================================================


def test_credential_expiring_in_30_days_reaches_the_association_admins(fcm_standin, committed):
    from tests.credentials import factories as crf

    assoc = crf.association()
    admin = crf.association_admin(assoc)
    expiring = crf.credential(crf.practitioner(assoc), valid_until=MORNING.date() + timedelta(days=20))
    crf.credential(crf.practitioner(assoc, name="李四"), valid_until=MORNING.date() + timedelta(days=90))
    ph = phone(fcm_standin, admin)
    with committed():
        run_job("credentials.expiring_notices")
        run_job("credentials.expiring_notices")  # once per credential and end date
    note = expect_push(ph, "credential.expiring", expiring)
    assert expiring.certificate_no in note.title and "张*三" in note.body and "张小三" not in note.body
    assert ph.new_kinds() == ["credential.expiring"]


# === notifications (issue 7) =====================================================================


def test_demo_welcome_reaches_a_demo_account(fcm_standin, committed):
    from backend.accounts.demo import DEMO_PHONES, demo_user
    from backend.notifications import demo

    user = demo_user(next(iter(DEMO_PHONES)))
    ph = phone(fcm_standin, user)
    with committed():
        demo.seed(io.StringIO())
        demo.seed(io.StringIO())  # idempotent
    note = expect_push(ph, "system.welcome", None)
    assert user.display_name in note.body
    assert ph.new_kinds() == ["system.welcome"]
