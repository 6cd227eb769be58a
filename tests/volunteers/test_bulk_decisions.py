"""Bulk approval of service records through the API: per-record results, the same rules as one
decision (own hours, escalated days, other organisations, already decided)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.accounts.models import Grant, Role, ScopeType
from backend.volunteers.models import ServiceRecord
from tests.factories import user_with_role
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


def backfill(user, org, day_offset: int, ref: str) -> ServiceRecord:
    day = DAY + timedelta(days=day_offset)
    return f.record(user, org, f.at(day, 9), f.at(day, 11), ref, source="backfill")


def test_a_coordinator_approves_many_records_with_per_record_results(api, org):
    caller = f.volunteer()  # a coordinator who volunteers too: never decides on their own hours
    Grant.objects.create(
        user=caller, role=Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=str(org.pk)
    )
    vols = [f.volunteer() for _ in range(3)]
    pending = [backfill(v, org, i, f"b{i}") for i, v in enumerate(vols)]
    own = backfill(caller, org, 5, "own")
    foreign = backfill(vols[0], f.organisation("别的协会"), 6, "foreign")
    done = backfill(vols[1], org, 7, "done")
    ServiceRecord.objects.filter(pk=done.pk).update(status="valid")
    ids = [r.pk for r in pending] + [foreign.pk, done.pk, 999999]
    response = api.as_user(caller).post(
        "/service-records/decisions",
        {"record_ids": [*ids, own.pk], "decision": "approve", "evaluation": "好"},
    )
    assert response.status_code == 200
    results = {r["record_id"]: (r["ok"], r["status"] or r["code"]) for r in response.json()["results"]}
    assert results == {
        **{r.pk: (True, "valid") for r in pending},
        foreign.pk: (False, "not_found"),
        done.pk: (False, "invalid_transition"),
        999999: (False, "not_found"),
        own.pk: (False, "permission_denied"),
    }
    assert set(
        ServiceRecord.objects.filter(pk__in=[r.pk for r in pending]).values_list("status", flat=True)
    ) == {"valid"}
    assert ServiceRecord.objects.get(pk=own.pk).status == "pending"
    assert ServiceRecord.objects.get(pk=foreign.pk).status == "pending"


def test_a_bulk_rejection_needs_a_reason_and_escalated_days_need_an_admin(api, org, coordinator, vol):
    f.record(vol, org, f.at(DAY, 6), f.at(DAY, 13), "a")
    pending = f.record(vol, org, f.at(DAY, 13), f.at(DAY, 16), "b")
    escalated = f.record(vol, org, f.at(DAY, 16), f.at(DAY, 19), "c")
    body = {"record_ids": [pending.pk, escalated.pk], "decision": "reject"}
    assert_error(api.as_user(coordinator).post("/service-records/decisions", body), 422, "validation_error")
    results = api.as_user(coordinator).post("/service-records/decisions", {**body, "reason": "超时"}).json()
    assert [(r["ok"], r["status"] or r["code"]) for r in results["results"]] == [
        (True, "rejected"),
        (False, "permission_denied"),
    ]
    admin = user_with_role("platform_admin")
    again = api.as_user(admin).post("/service-records/decisions", {**body, "reason": "超时"}).json()
    assert [r["status"] or r["code"] for r in again["results"]] == ["invalid_transition", "rejected"]
    assert_error(
        api.as_user(admin).post("/service-records/decisions", {"record_ids": [], "decision": "approve"}),
        422,
        "validation_error",
    )
