"""Organisations, posts, activities, shifts and recurring shifts through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import Grant
from backend.volunteers.models import Activity, Shift
from tests.factories import UserFactory, user_with_role
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db


def iso(moment):
    return moment.isoformat()


def test_platform_admin_creates_an_organisation_and_names_a_coordinator(api):
    f.divisions()
    admin = user_with_role("platform_admin")
    response = api.as_user(admin).post(
        "/volunteer/organisations",
        {"name": "民治红马甲服务队", "division_code": f.STREET, "contact_name": "李四"},
    )
    assert response.status_code == 201, response.json()
    org_id = response.json()["id"]
    coord = UserFactory()
    added = api.as_user(admin).post(f"/volunteer/organisations/{org_id}/coordinators", {"phone": coord.phone})
    assert added.status_code == 201
    assert Grant.objects.filter(
        user=coord, role="coordinator", scope_type="organisation", scope_id=str(org_id)
    ).exists()
    assert [o["id"] for o in api.as_user(coord).get("/volunteer/organisations").json()] == [org_id]


def test_others_cannot_create_organisations(api):
    f.divisions()
    assert_error(
        api.as_user(UserFactory()).post(
            "/volunteer/organisations", {"name": "某队", "division_code": f.STREET}
        ),
        403,
        "permission_denied",
    )


def create_activity(api, coordinator, org, **extra):
    body = {
        "organisation_id": org.pk,
        "programme": "red_vest",
        "title": "周末U站值守",
        "division_code": f.STREET,
        "recipients": "过往群众",
        "risk_level": "low",
    }
    body.update(extra)
    return api.as_user(coordinator).post("/activities", body)


def test_coordinator_creates_post_activity_shift_and_publishes(api, org, coordinator):
    post = api.as_user(coordinator).post(
        "/service-posts",
        {
            "name": "民治党群服务中心U站",
            "division_code": f.STREET,
            "address": "民治大道1号",
            "latitude": "22.6200",
            "longitude": "114.0300",
            "host": "民治街道党群服务中心",
            "organisation_id": org.pk,
        },
    )
    assert post.status_code == 201, post.json()
    created = create_activity(api, coordinator, org, post_id=post.json()["id"], risk_level="medium")
    assert created.status_code == 201, created.json()
    activity = created.json()
    assert activity["status"] == "draft" and activity["insurance_required"] is True
    assert activity["place"].startswith("民治党群服务中心U站")
    # a draft is invisible to the public
    assert_error(api.as_user(UserFactory()).get(f"/activities/{activity['id']}"), 404, "not_found")
    start = timezone.now() + timedelta(days=5)
    shift = api.as_user(coordinator).post(
        f"/activities/{activity['id']}/shifts",
        {
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=3)),
            "capacity": 5,
            "waitlist_size": 2,
        },
    )
    assert shift.status_code == 201, shift.json()
    published = api.as_user(coordinator).post(f"/activities/{activity['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    seen = api.as_user(UserFactory()).get(f"/activities/{activity['id']}").json()
    assert seen["remaining"] == 5 and seen["shifts"][0]["capacity"] == 5


def test_only_the_organisations_coordinators_manage_its_activities(api, org):
    other_org = f.organisation("别的组织")
    outsider = f.coordinator_of(other_org)
    assert_error(create_activity(api, outsider, org), 403, "permission_denied")


def test_past_activities_cannot_be_published(api, org, coordinator):
    activity = create_activity(api, coordinator, org).json()
    past = timezone.now() - timedelta(days=1)
    Shift.objects.create(
        activity_id=activity["id"], starts_at=past, ends_at=past + timedelta(hours=2), capacity=3
    )
    assert_error(
        api.as_user(coordinator).post(f"/activities/{activity['id']}/publish"), 409, "activity_not_in_future"
    )
    assert Activity.objects.get(pk=activity["id"]).status == "draft"


def test_an_activity_without_shifts_cannot_be_published(api, org, coordinator):
    activity = create_activity(api, coordinator, org).json()
    assert_error(
        api.as_user(coordinator).post(f"/activities/{activity['id']}/publish"), 409, "activity_not_in_future"
    )


def test_river_activity_needs_a_river_segment(api, org, coordinator):
    body = assert_error(create_activity(api, coordinator, org, programme="river"), 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "river_segment_id"
    from backend.rivers.models import River, RiverSegment

    river = River.objects.create(name="观澜河")
    segment = RiverSegment.objects.create(river=river, name="民治段", division=f.divisions())
    created = create_activity(api, coordinator, org, programme="river", river_segment_id=segment.pk)
    assert created.status_code == 201 and created.json()["river_segment_name"] == "观澜河 · 民治段"


def test_weekly_series_generates_weekend_shifts(api, org, coordinator):
    activity = create_activity(api, coordinator, org).json()
    today = timezone.localdate()
    response = api.as_user(coordinator).post(
        f"/activities/{activity['id']}/shift-series",
        {
            "weekdays": [5, 6],
            "start_time": "09:00",
            "end_time": "12:00",
            "starts_on": (today + timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=21)).isoformat(),
            "capacity": 4,
        },
    )
    assert response.status_code == 201, response.json()
    shifts = response.json()["created_shifts"]
    assert 5 <= len(shifts) <= 6
    for s in shifts:
        local = timezone.localtime(timezone.datetime.fromisoformat(s["starts_at"]))
        assert local.weekday() in (5, 6) and local.hour == 9
        assert s["cancel_deadline"] is not None
    # generating again adds nothing (the job is idempotent)
    from backend.volunteers.services import shift_series_extend

    assert shift_series_extend() == 0


def test_list_filters_and_remaining_places(api, org):
    red = f.activity(org, title="U站")
    river = f.activity(org, title="巡河", programme="river")
    full = f.activity(org, title="满员")
    draft = f.activity(org, title="草稿", status="draft")
    f.shift(red, capacity=3, taken=1)
    f.shift(red, starts_in=timedelta(days=10), capacity=2)
    f.shift(river, capacity=2)
    f.shift(full, capacity=2, taken=2)
    f.shift(draft)
    client = api.as_user(UserFactory())
    items = client.get("/activities").json()["items"]
    assert {i["title"] for i in items} == {"U站", "巡河", "满员"}
    by_title = {i["title"]: i for i in items}
    assert by_title["U站"]["remaining"] == 4 and by_title["U站"]["upcoming_shifts"] == 2
    assert {i["title"] for i in client.get("/activities", {"programme": "river"}).json()["items"]} == {"巡河"}
    assert {i["title"] for i in client.get("/activities", {"has_space": "true"}).json()["items"]} == {
        "U站",
        "巡河",
    }
    soon = (timezone.now() + timedelta(days=5)).isoformat()
    ranged = client.get("/activities", {"from": soon}).json()["items"]
    assert [(i["title"], i["remaining"]) for i in ranged] == [("U站", 2)]
    assert client.get("/activities", {"division": "4401"}).json()["items"] == []


def test_list_pages_with_a_cursor(api, org):
    for i in range(5):
        f.shift(f.activity(org, title=f"活动{i}"))
    client = api.as_user(UserFactory())
    first = client.get("/activities", {"limit": 3}).json()
    second = client.get("/activities", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert_error(client.get("/activities", {"cursor": "!!"}), 422, "validation_error")


def test_list_runs_the_same_queries_for_1_and_50_rows(api, org, django_assert_max_num_queries):
    user = UserFactory()
    client = api.as_user(user)
    f.shift(f.activity(org))
    with django_assert_max_num_queries(3):
        assert len(client.get("/activities").json()["items"]) == 1
    for i in range(49):
        f.shift(f.activity(org, title=f"活动{i}"))
    with django_assert_max_num_queries(3):
        assert len(client.get("/activities", {"limit": 50}).json()["items"]) == 50


def test_times_without_an_offset_are_refused_not_a_server_error(api, org, coordinator, vol):
    """Times are ISO 8601 with offset: a naive one used to meet aware times in a comparison (500)."""
    from backend.volunteers.models import ServiceRecord, Signup

    naive = (timezone.localtime() + timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    act = f.activity(org)
    shift = api.as_user(coordinator).post(
        f"/activities/{act.pk}/shifts",
        {"starts_at": iso(naive), "ends_at": iso(naive + timedelta(hours=2)), "capacity": 3},
    )
    body = assert_error(shift, 422, "validation_error")
    assert {e["field"] for e in body["details"]["errors"]} == {"starts_at", "ends_at"}
    signup = Signup.objects.create(shift=f.shift(act), user=vol, status="confirmed")
    attendance = api.as_user(coordinator).post(
        f"/signups/{signup.pk}/attendance",
        {"checked_in_at": iso(naive), "checked_out_at": iso(naive + timedelta(hours=1))},
    )
    assert_error(attendance, 422, "validation_error")
    past = naive - timedelta(days=10)
    backfill = api.as_user(vol).post(
        "/me/backfill-requests",
        {
            "organisation_id": org.pk,
            "started_at": iso(past),
            "ended_at": iso(past + timedelta(hours=2)),
            "place": "U站",
            "content": "值守",
        },
    )
    assert_error(backfill, 422, "validation_error")
    assert not Shift.objects.filter(activity=act).exclude(pk=signup.shift_id).exists()
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize("open_ids_max", [1000, 2])
def test_activity_list_is_the_same_whether_or_not_it_starts_from_the_upcoming_shifts(
    api, monkeypatch, django_assert_max_num_queries, open_ids_max
):
    """Newest first, open activities only, across pages: read through the upcoming shifts'
    activities (few upcoming shifts) or by walking the activities (many), the same pages."""
    from backend.volunteers import selectors

    monkeypatch.setattr(selectors, "OPEN_IDS_MAX", open_ids_max)
    org = f.organisation()
    opened = []
    for i in range(7):
        act = f.activity(org, title=f"活动{i}")
        if i % 3 != 1:  # every third one has only a past shift, one has none at all
            f.shift(act, starts_in=timedelta(days=2 + i))
            opened.append(act.pk)
        elif i == 1:
            f.shift(act, starts_in=-timedelta(days=2))
    f.activity(org, status=Activity.Status.DRAFT)
    seen, cursor = [], None
    while True:
        with django_assert_max_num_queries(3):
            page = api.get("/activities", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(opened, reverse=True)
