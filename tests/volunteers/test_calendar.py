"""The volunteer's calendar feed: GET/POST /me/calendar and the RFC 5545 text at /cal/<token>.ics,
read back with a strict parser written here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from backend.core.audit import AuditLog
from backend.volunteers.ical import CalendarEvent, calendar_text
from backend.volunteers.models import ServicePost, Shift
from backend.volunteers.search import activity_location
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- a strict reader ------------------------------------------------------------------------------


def parse_ics(raw: bytes) -> list[dict]:
    """Components as {"name", "props": [(name, params, value)], "children"}; fails on anything
    RFC 5545 does not allow: bare LF, lines over 75 octets, bad nesting, unescaped separators."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    physical = raw.split(b"\r\n")[:-1]
    for line in physical:
        assert len(line) <= 75, line
    text_lines = [line.decode("utf-8") for line in physical]  # each physical line is whole UTF-8
    logical: list[str] = []
    for line in text_lines:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    root: dict = {"name": "ROOT", "props": [], "children": []}
    stack = [root]
    for line in logical:
        match = re.fullmatch(r"([A-Z0-9-]+)((?:;[A-Z0-9-]+=[^;:]*)*):(.*)", line)
        assert match, line
        name, params, value = match.groups()
        if name == "BEGIN":
            node = {"name": value, "props": [], "children": []}
            stack[-1]["children"].append(node)
            stack.append(node)
        elif name == "END":
            assert stack.pop()["name"] == value
        else:
            stack[-1]["props"].append(
                (name, dict(p.split("=", 1) for p in params[1:].split(";") if p), value)
            )
    assert stack == [root]
    return root["children"]


def unescape(value: str) -> str:
    assert not re.search(r"(?<!\\)[,;]", value.replace("\\\\", "")), value
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def prop(component: dict, name: str) -> tuple[dict, str]:
    found = [(p, v) for n, p, v in component["props"] if n == name]
    assert len(found) == 1, (name, found)
    return found[0]


def events_of(raw: bytes) -> dict[str, dict]:
    (calendar,) = parse_ics(raw)
    assert calendar["name"] == "VCALENDAR" and prop(calendar, "VERSION")[1] == "2.0"
    zones = [c for c in calendar["children"] if c["name"] == "VTIMEZONE"]
    assert [prop(z, "TZID")[1] for z in zones] == ["Asia/Shanghai"]
    events = [c for c in calendar["children"] if c["name"] == "VEVENT"]
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
            prop(event, required)
        assert re.fullmatch(r"\d{8}T\d{6}Z", prop(event, "DTSTAMP")[1])
        assert prop(event, "DTSTART")[0] == {"TZID": "Asia/Shanghai"}
    return {prop(e, "UID")[1]: e for e in events}


def local(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=SHANGHAI)


# --- the pure writer ------------------------------------------------------------------------------


def test_long_chinese_text_folds_at_75_octets_without_splitting_a_character():
    start = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    text = "民治街道党群服务中心志愿服务U站，周末值守；请带好红马甲\\工作证\n谢谢" * 3
    raw = calendar_text(
        name="测试",
        events=[
            CalendarEvent(
                uid="x@y", sequence=0, cancelled=False, starts_at=start, ends_at=start, summary=text
            )
        ],
        stamp=start,
    ).encode()
    (event,) = events_of(raw).values()
    assert unescape(prop(event, "SUMMARY")[1]) == text
    assert prop(event, "DTSTART")[1] == "20261206T090000"  # 01:00 UTC is 09:00 in Shanghai


# --- through the API ------------------------------------------------------------------------------


def feed(url: str):
    return Client().get(urlsplit(url).path)


def test_feed_lists_confirmed_shifts_with_place_and_marks_cancellations(api, org, vol, settings):
    settings.LINLI_PUBLIC_HOST = "linli.example.cn"
    post = ServicePost.objects.create(
        name="民治党群服务中心U站",
        division=f.divisions(),
        address="民治大道1号",
        latitude=22.62,
        longitude=114.03,
    )
    act = f.activity(org, title="周末U站值守, 引导;咨询", post=post, **activity_location(post))
    keep = f.shift(act, starts_in=timedelta(days=3), capacity=5)
    drop = f.shift(act, starts_in=timedelta(days=4), capacity=5)
    gone = f.shift(act, starts_in=timedelta(days=5), capacity=5)
    other = f.shift(act, starts_in=timedelta(days=6), capacity=5)
    client = api.as_user(vol)
    ids = {}
    for name, shift in (("keep", keep), ("drop", drop), ("gone", gone), ("other", other)):
        response = client.post(f"/shifts/{shift.pk}/signups")
        assert response.status_code == 201, response.json()
        ids[name] = response.json()["id"]
    f.volunteer(name="李四")  # someone else's sign-ups never show
    address = client.get("/me/calendar")
    assert address.status_code == 200, address.json()
    url = address.json()["url"]
    assert re.fullmatch(r"https?://linli\.example\.cn/cal/[a-z2-7]{32}\.ics", url)
    assert address.json()["webcal_url"] == "webcal://" + url.split("://", 1)[1]
    assert client.get("/me/calendar").json()["url"] == url  # stable until replaced

    first = feed(url)
    assert first.status_code == 200 and first["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_of(first.content)
    host = "linli.example.cn"
    assert set(events) == {f"signup-{i}@{host}" for i in ids.values()}
    kept = events[f"signup-{ids['keep']}@{host}"]
    assert unescape(prop(kept, "SUMMARY")[1]) == "周末U站值守, 引导;咨询"
    assert unescape(prop(kept, "LOCATION")[1]) == act.place
    assert prop(kept, "GEO")[1] == "22.620000;114.030000"
    assert local(prop(kept, "DTSTART")[1]) == keep.starts_at
    assert local(prop(kept, "DTEND")[1]) == keep.ends_at
    assert (prop(kept, "STATUS")[1], prop(kept, "SEQUENCE")[1]) == ("CONFIRMED", "0")

    assert client.delete(f"/signups/{ids['drop']}").status_code == 200
    Shift.objects.filter(pk=gone.pk).update(status=Shift.Status.CANCELLED)
    after = events_of(feed(url).content)
    assert set(after) == set(events)  # same UIDs: calendars update the entries they hold
    for name in ("drop", "gone"):
        event = after[f"signup-{ids[name]}@{host}"]
        assert (prop(event, "STATUS")[1], prop(event, "SEQUENCE")[1]) == ("CANCELLED", "1")
    assert prop(after[f"signup-{ids['other']}@{host}"], "STATUS")[1] == "CONFIRMED"


def test_a_new_address_revokes_the_old_one(api, vol):
    client = api.as_user(vol)
    old = client.get("/me/calendar").json()["url"]
    assert feed(old).status_code == 200
    renewed = client.post("/me/calendar")
    assert renewed.status_code == 200, renewed.json()
    new = renewed.json()["url"]
    assert new != old and client.get("/me/calendar").json()["url"] == new
    assert feed(old).status_code == 404
    assert feed(new).status_code == 200
    assert feed(old.replace(".ics", "x.ics")).status_code == 404
    actions = list(AuditLog.objects.filter(actor=vol).values_list("action", flat=True))
    assert "calendar_feed.created" in actions and "calendar_feed.renewed" in actions


def test_calendar_address_needs_sign_in(api):
    assert_error(api.get("/me/calendar"), 401, "not_authenticated")


def test_feed_reads_a_fixed_number_of_queries(api, org, vol, django_assert_max_num_queries):
    url = api.as_user(vol).get("/me/calendar").json()["url"]
    act = f.activity(org)
    for i in range(1, 15):
        shift = f.shift(act, starts_in=timedelta(days=i), capacity=5)
        assert api.as_user(vol).post(f"/shifts/{shift.pk}/signups").status_code == 201
    with django_assert_max_num_queries(2):
        assert len(events_of(feed(url).content)) == 14
