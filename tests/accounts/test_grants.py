"""Roles managed in the open: GET/POST /grants, DELETE /grants/{id}."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.accounts.models import Grant
from backend.accounts.services import grants_expire
from backend.core.models import AuditLog
from tests.checkin import factories as cf
from tests.factories import UserFactory, user_with_role
from tests.helpers import ApiClient, assert_error
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return user_with_role("platform_admin")


@pytest.fixture
def event():
    return cf.event(org=vf.organisation())


@pytest.fixture
def coordinator(event):
    return vf.coordinator_of(event.organisation)


def test_platform_admin_makes_someone_a_reviewer_by_phone(api, admin):
    vf.divisions()
    person = UserFactory(phone="13912340001")

    r = api.as_user(admin).post(
        "/grants",
        {"phone": "13912340001", "role": "reviewer", "scope_type": "division", "scope_id": "440309002"},
    )

    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["user"] == {
        "id": person.pk,
        "phone_masked": "139****0001",
        "display_name": person.display_name,
    }
    assert body["granted_by"]["id"] == admin.pk and body["valid_until"] is None
    roles = api.as_user(person).get("/me").json()["roles"]
    assert roles == [{"role": "reviewer", "scope_type": "division", "scope_id": "440309002"}]
    person.refresh_from_db()
    assert person.is_staff
    assert AuditLog.objects.filter(action="grant.created", object_id=str(body["id"]), actor=admin).exists()


def test_a_scope_that_does_not_exist_is_refused(api, admin):
    person = UserFactory()
    for scope_type, scope_id in (("division", "999999999"), ("event", "424242"), ("organisation", "x")):
        role = {"division": "reviewer", "event": "scanner", "organisation": "coordinator"}[scope_type]
        r = api.as_user(admin).post(
            "/grants", {"user_id": person.pk, "role": role, "scope_type": scope_type, "scope_id": scope_id}
        )
        body = assert_error(r, 422, "validation_error")
        assert body["details"]["errors"][0]["code"] == "unknown_scope"
    r = api.as_user(admin).post(
        "/grants", {"user_id": person.pk, "role": "reviewer", "scope_type": "event", "scope_id": "1"}
    )
    assert assert_error(r, 422, "validation_error")["details"]["errors"][0]["code"] == "invalid_scope"
    r = api.as_user(admin).post("/grants", {"user_id": person.pk, "role": "mayor"})
    assert assert_error(r, 422, "validation_error")["details"]["errors"][0]["field"] == "role"
    assert not Grant.objects.filter(user=person).exists()


def test_unknown_phone_and_both_or_neither_identities_are_refused(api, admin):
    for payload in ({"phone": "13912349999"}, {}, {"phone": "13912349999", "user_id": admin.pk}):
        r = api.as_user(admin).post("/grants", {"role": "platform_admin", **payload})
        assert_error(r, 422, "validation_error")


def test_coordinator_grants_scanner_of_their_organisations_event_only(api, event, coordinator):
    person = UserFactory()
    other_event = cf.event(org=vf.organisation("别的组织"))

    r = api.as_user(coordinator).post(
        "/grants", {"user_id": person.pk, "role": "scanner", "scope_type": "event", "scope_id": str(event.pk)}
    )
    assert r.status_code == 201
    for payload in (
        {"role": "scanner", "scope_type": "event", "scope_id": str(other_event.pk)},
        {"role": "reviewer", "scope_type": "division", "scope_id": "440309002"},
        {"role": "coordinator", "scope_type": "organisation", "scope_id": str(event.organisation_id)},
        {"role": "platform_admin"},
    ):
        assert_error(
            api.as_user(coordinator).post("/grants", {"user_id": person.pk, **payload}),
            403,
            "permission_denied",
        )
    assert list(Grant.objects.filter(user=person).values_list("role", "scope_id")) == [
        ("scanner", str(event.pk))
    ]


def test_coordinator_lists_only_the_grants_of_their_events(api, event, coordinator, admin):
    mine = cf.staff(event)
    cf.staff(cf.event(org=vf.organisation("别的组织")))

    items = api.as_user(coordinator).get("/grants").json()["items"]

    assert [(g["user"]["id"], g["role"]) for g in items] == [(mine.pk, "scanner")]
    everything = api.as_user(admin).get("/grants", {"role": "scanner"}).json()["items"]
    assert len(everything) == 2
    assert_error(api.as_user(UserFactory()).get("/grants"), 403, "permission_denied")


def test_revoked_scanner_is_refused_at_their_next_request(api, event, coordinator):
    scanner = cf.staff(event)
    scanner_api = api.as_user(scanner)
    assert scanner_api.get(f"/events/{event.pk}").status_code == 200
    grant = Grant.objects.get(user=scanner)

    r = api.as_user(coordinator).delete(f"/grants/{grant.pk}")

    assert r.status_code == 200 and r.json() == {"ok": True}
    assert_error(scanner_api.get(f"/events/{event.pk}"), 404, "not_found")  # same token, next request
    assert AuditLog.objects.filter(
        action="grant.revoked", object_id=str(grant.pk), actor=coordinator
    ).exists()


def test_grants_out_of_reach_do_not_exist_for_a_coordinator(api, coordinator):
    theirs = cf.staff(cf.event(org=vf.organisation("别的组织")))
    grant = Grant.objects.get(user=theirs)
    assert_error(api.as_user(coordinator).delete(f"/grants/{grant.pk}"), 404, "not_found")
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_the_last_platform_admin_stays(api, admin):
    grant = Grant.objects.get(user=admin)
    assert_error(api.as_user(admin).delete(f"/grants/{grant.pk}"), 409, "last_platform_admin")
    second = user_with_role("platform_admin")
    assert api.as_user(second).delete(f"/grants/{grant.pk}").status_code == 200
    assert_error(api.as_user(admin).get("/grants"), 403, "permission_denied")


def test_a_grant_lapses_at_its_end_and_the_job_revokes_it(api, admin, event):
    person = UserFactory()
    until = timezone.now() + timedelta(hours=2)
    r = api.as_user(admin).post(
        "/grants",
        {
            "user_id": person.pk,
            "role": "scanner",
            "scope_type": "event",
            "scope_id": str(event.pk),
            "valid_until": until.isoformat(),
        },
    )
    assert r.status_code == 201 and r.json()["valid_until"]
    person_api = api.as_user(person)
    assert person_api.get(f"/events/{event.pk}").status_code == 200
    with time_machine.travel(until + timedelta(seconds=1)):
        assert_error(ApiClient(person).get(f"/events/{event.pk}"), 404, "not_found")
        assert grants_expire() == 1
    assert not Grant.objects.filter(user=person).exists()
    assert AuditLog.objects.filter(action="grant.revoked", actor=None).exists()


def test_granting_again_sets_the_new_end(api, admin, event):
    person = UserFactory()
    payload = {"user_id": person.pk, "role": "scanner", "scope_type": "event", "scope_id": str(event.pk)}
    assert api.as_user(admin).post("/grants", payload).status_code == 201
    later = (timezone.now() + timedelta(days=3)).isoformat()
    again = api.as_user(admin).post("/grants", {**payload, "valid_until": later})
    assert again.status_code == 200 and again.json()["valid_until"] is not None
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    r = api.as_user(admin).post("/grants", {**payload, "valid_until": past})
    assert assert_error(r, 422, "validation_error")["details"]["errors"][0]["code"] == "in_the_past"


def test_grant_list_runs_the_same_queries_for_1_and_50_grants(
    api, admin, event, django_assert_max_num_queries
):
    admin_api = api.as_user(admin)
    cf.staff(event)
    with django_assert_max_num_queries(6):
        assert len(admin_api.get("/grants", {"limit": 100}).json()["items"]) == 2
    for _ in range(49):
        cf.staff(event)
    with django_assert_max_num_queries(6):
        assert len(admin_api.get("/grants", {"limit": 100}).json()["items"]) == 51
