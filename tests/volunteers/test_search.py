"""Browsing and searching activities without signing in: GET /activities and /activities/{id}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.core.geo import haversine_m, wgs84_to_gcj02
from backend.volunteers.models import Activity, ActivitySearchToken, ServicePost
from backend.volunteers.search import activity_index, activity_location
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db

CENTRE = (22.6200, 114.0300)  # 民治


def post_at(lat: float, lon: float, name: str = "U站") -> ServicePost:
    return ServicePost.objects.create(name=name, division=f.divisions(), latitude=lat, longitude=lon)


def found(org, title: str, description: str = "", *, post=None, skills=None, **kwargs) -> Activity:
    """A published activity with one upcoming shift, indexed as the services index it."""
    act = f.activity(
        org,
        title=title,
        description=description,
        post=post,
        required_skills=skills or [],
        **activity_location(post),
        **kwargs,
    )
    activity_index(activity=act, created=True)
    f.shift(act, capacity=3)
    return act


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["title"] for item in response.json()["items"]]


def test_anyone_browses_published_activities_without_signing_in(api, org, vol):
    act = found(org, "周末U站值守", "为过往群众提供咨询")
    draft = f.activity(org, title="草稿", status="draft")
    f.shift(draft)
    cancelled = f.activity(org, title="已取消", status="cancelled")
    f.shift(cancelled)
    shift = act.shifts.get()
    shift.taken = 1
    shift.save()
    listed = api.get("/activities")
    assert titles(listed) == ["周末U站值守"]
    assert listed.json()["items"][0]["remaining"] == 2
    detail = api.get(f"/activities/{act.pk}")
    assert detail.status_code == 200, detail.json()
    body = detail.json()
    assert body["remaining"] == 2 and body["shifts"][0]["taken"] == 1
    assert "signups" not in body and "roster" not in str(body)
    assert_error(api.get(f"/activities/{draft.pk}"), 404, "not_found")
    assert_error(api.get(f"/activities/{cancelled.pk}"), 404, "not_found")
    # a bad token is still refused rather than read as "anonymous"
    assert_error(api.get("/activities", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")


def test_keyword_of_two_chinese_characters_matches_title_or_description(api, org):
    found(org, "社区合唱团排练服务", "")
    found(org, "敬老院探访", "陪老人合唱红歌")
    found(org, "河道环保巡查", "清理垃圾")
    found(org, "合作社帮扶", "唱歌")  # 合 and 唱 apart: no match
    assert sorted(titles(api.get("/activities", {"q": "合唱"}))) == sorted(
        ["敬老院探访", "社区合唱团排练服务"]
    )
    assert titles(api.get("/activities", {"q": "环保"})) == ["河道环保巡查"]


def test_one_character_and_long_keywords_and_several_terms(api, org):
    found(org, "河道环保巡查", "清理垃圾，守护母亲河")
    found(org, "U站值守", "民治党群服务中心")
    found(org, "垃圾分类宣传", "")
    assert titles(api.get("/activities", {"q": "河"})) == ["河道环保巡查"]
    assert titles(api.get("/activities", {"q": "民治党群服务中心"})) == ["U站值守"]
    assert titles(api.get("/activities", {"q": "u站"})) == ["U站值守"]  # case-insensitive
    assert titles(api.get("/activities", {"q": "垃圾 河"})) == ["河道环保巡查"]
    assert titles(api.get("/activities", {"q": "垃圾 宣传"})) == ["垃圾分类宣传"]
    assert titles(api.get("/activities", {"q": "不存在的词"})) == []


def test_an_activity_created_through_the_api_is_found_and_its_tokens_go_with_it(api, org, coordinator):
    body = {
        "organisation_id": org.pk,
        "programme": "red_vest",
        "title": "社区合唱团排练",
        "description": "欢迎喜欢唱歌的志愿者",
        "division_code": f.STREET,
        "required_skills": ["声乐"],
    }
    created = api.as_user(coordinator).post("/activities", body)
    assert created.status_code == 201, created.json()
    activity_id = created.json()["id"]
    start = timezone.now() + timedelta(days=3)
    shift = api.as_user(coordinator).post(
        f"/activities/{activity_id}/shifts",
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(), "capacity": 4},
    )
    assert shift.status_code == 201, shift.json()
    assert titles(api.get("/activities", {"q": "合唱"})) == []  # a draft is not public
    assert api.as_user(coordinator).post(f"/activities/{activity_id}/publish").status_code == 200
    assert titles(api.get("/activities", {"q": "合唱"})) == ["社区合唱团排练"]
    assert titles(api.get("/activities", {"q": "唱歌"})) == ["社区合唱团排练"]
    assert titles(api.get("/activities", {"skills": "声乐,急救"})) == ["社区合唱团排练"]
    Activity.objects.filter(pk=activity_id).delete()
    assert not ActivitySearchToken.objects.filter(owner_id=activity_id).exists()


def test_skills_filter_finds_activities_asking_for_any_of_them(api, org):
    found(org, "急救站", skills=["急救"])
    found(org, "手语导览", skills=["手语", "讲解"])
    found(org, "值守")
    assert sorted(titles(api.get("/activities", {"skills": "急救, 手语"}))) == sorted(["手语导览", "急救站"])
    assert titles(api.get("/activities", {"skills": "讲解"})) == ["手语导览"]


def test_nearest_first_within_the_radius_with_distances(api, org):
    near = found(org, "近", post=post_at(22.6210, 114.0300))  # ~110 m north
    mid = found(org, "中", post=post_at(22.6200, 114.0500))  # ~2 km east
    found(org, "远", post=post_at(22.7500, 114.0300))  # ~14 km north
    found(org, "无地点")
    response = api.get("/activities", {"lat": CENTRE[0], "lon": CENTRE[1], "radius_km": 5})
    assert titles(response) == ["近", "中"]
    items = response.json()["items"]
    assert items[0]["distance_m"] == pytest.approx(
        haversine_m(*CENTRE, near.latitude, near.longitude), abs=0.5
    )
    assert items[1]["distance_m"] == pytest.approx(haversine_m(*CENTRE, mid.latitude, mid.longitude), abs=0.5)
    assert items[0]["latitude"] == pytest.approx(22.6210)
    assert titles(api.get("/activities", {"lat": CENTRE[0], "lon": CENTRE[1], "radius_km": 20})) == [
        "近",
        "中",
        "远",
    ]
    # the default radius is 5 km
    assert titles(api.get("/activities", {"lat": CENTRE[0], "lon": CENTRE[1]})) == ["近", "中"]


def test_gcj02_coordinates_are_converted_before_measuring(api, org):
    found(org, "这里", post=post_at(*CENTRE))
    glat, glon = wgs84_to_gcj02(*CENTRE)  # what wx.getLocation({type: "gcj02"}) reports here
    as_gcj = api.get("/activities", {"lat": glat, "lon": glon, "coord": "gcj02", "radius_km": 0.1})
    assert titles(as_gcj) == ["这里"] and as_gcj.json()["items"][0]["distance_m"] < 0.5
    # read as WGS-84, the same numbers are several hundred metres off
    assert titles(api.get("/activities", {"lat": glat, "lon": glon, "radius_km": 0.1})) == []


def test_distance_pages_follow_the_cursor_without_repeats(api, org):
    for i in range(7):
        found(org, f"点{i}", "合唱", post=post_at(22.6200 + 0.002 * (7 - i), 114.0300))
    found(org, "同距离", "合唱", post=post_at(22.6200 + 0.002 * 3, 114.0300))  # a tie with 点4
    seen: list[str] = []
    params = {"lat": CENTRE[0], "lon": CENTRE[1], "radius_km": 3, "q": "合唱", "limit": 3}
    cursor = None
    for _ in range(5):
        page = api.get("/activities", {**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8 and len(set(seen)) == 8
    assert seen[:3] == ["点6", "点5", "点4"] or seen[:3] == ["点6", "点5", "同距离"]
    assert_error(api.get("/activities", {**params, "cursor": "bm90LWpzb24"}), 422, "validation_error")


def test_other_filters_combine_with_search(api, org):
    found(org, "合唱A")
    full = found(org, "合唱满员")
    full.shifts.update(taken=3)
    river = found(org, "合唱巡河", programme="river")
    later = f.activity(org, title="合唱下月")
    activity_index(activity=later, created=True)
    f.shift(later, starts_in=timedelta(days=30))
    assert sorted(titles(api.get("/activities", {"q": "合唱", "has_space": "true"}))) == [
        "合唱A",
        "合唱下月",
        "合唱巡河",
    ]
    assert titles(api.get("/activities", {"q": "合唱", "programme": "river"})) == ["合唱巡河"]
    soon = (timezone.now() + timedelta(days=20)).isoformat()
    assert titles(api.get("/activities", {"q": "合唱", "from": soon})) == ["合唱下月"]
    assert river.pk


def test_half_a_point_is_refused_naming_the_field(api, org):
    response = api.get("/activities", {"lat": 22.6})
    assert_error(response, 422, "validation_error")
    assert response.json()["details"]["errors"][0]["field"] == "lon"
    assert_error(
        api.get("/activities", {"lat": 22.6, "lon": 114.0, "radius_km": 80}), 422, "validation_error"
    )


def test_search_runs_the_same_queries_for_1_and_40_rows(api, org, django_assert_max_num_queries):
    """One query sizes the keyword's token, at most four read rings of growing radius."""
    found(org, "合唱0", post=post_at(*CENTRE))
    params = {"q": "合唱", "lat": CENTRE[0], "lon": CENTRE[1], "skills": "", "limit": 50}
    with django_assert_max_num_queries(4):  # 1 km, 4 km, 5 km
        assert len(api.get("/activities", params).json()["items"]) == 1
    for i in range(1, 40):
        found(org, f"合唱{i}", post=post_at(CENTRE[0] + i * 0.0005, CENTRE[1]))
    with django_assert_max_num_queries(4):
        assert len(api.get("/activities", params).json()["items"]) == 40
    with django_assert_max_num_queries(2):  # 20 of them within the first kilometre: one ring
        assert len(api.get("/activities", {**params, "limit": 10}).json()["items"]) == 10


@pytest.mark.parametrize("common_rows", [1, 3, 1000])
def test_listed_or_probed_tokens_give_the_same_answer(api, org, monkeypatch, common_rows):
    """Whether a keyword's tokens are listed (rare) or probed per row (common) changes the plan,
    never the answer."""
    import backend.core.textsearch as textsearch

    for i in range(6):
        found(org, f"社区合唱{i}", "敬老探访" if i % 2 else "环保")
    found(org, "合作", "唱歌")
    monkeypatch.setattr(textsearch, "COMMON_ROWS", common_rows)
    assert len(titles(api.get("/activities", {"q": "合唱"}))) == 6
    assert sorted(titles(api.get("/activities", {"q": "合唱 敬老"}))) == [
        "社区合唱1",
        "社区合唱3",
        "社区合唱5",
    ]
    assert titles(api.get("/activities", {"q": "唱 歌"})) == ["合作"]
    assert len(titles(api.get("/activities", {"q": "区", "limit": 2}))) == 2
