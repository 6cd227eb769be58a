"""Public directory, the reviewer's queue, due-date warnings; constant queries per page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.filings import jobs, services
from backend.notifications.models import Notification
from tests.filings.conftest import OTHER_COMMUNITY
from tests.filings.factories import bare_group, submitted

TZ = ZoneInfo("Asia/Shanghai")


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
        assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_directory_masks_people_and_shows_credit_flags(api, rep, reviewer):
    group = bare_group(rep, name="民治社区夕阳红合唱团", number="440309002-2026-00009")
    services.credit_listing_create(
        group=group,
        actor=reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    item = api.get("/orgs").json()["items"][0]
    assert item["filing_number"] == "440309002-2026-00009"
    assert item["rep_name_masked"] == "李*五"
    assert item["on_abnormal_list"] is True and item["on_serious_list"] is False
    assert "李四五" not in str(api.get(f"/orgs/{group.pk}").json())


def test_directory_filters(api, rep):
    bare_group(rep, name="民治社区夕阳红合唱团")
    bare_group(rep, name="观城社区书法协会", community=OTHER_COMMUNITY)
    assert [g["name"] for g in api.get("/orgs", {"q": "书法"}).json()["items"]] == ["观城社区书法协会"]
    assert [g["name"] for g in api.get("/orgs", {"division": "440309002"}).json()["items"]] == [
        "民治社区夕阳红合唱团"
    ]
    assert api.get("/orgs", {"category": "charity"}).json()["items"] == []
    assert api.get("/orgs", {"category": "casino"}).status_code == 422


def test_directory_pages_with_a_cursor_in_constant_queries(api, rep):
    bare_group(rep, name="民治社区第0号合唱团".replace("第", "甲"))
    one = count_queries(lambda: api.get("/orgs"))
    for i in range(1, 30):
        bare_group(rep, name=f"民治社区{i}号合唱团")
    many = count_queries(lambda: api.get("/orgs", {"limit": 50}))
    assert many == one
    page = api.get("/orgs", {"limit": 10}).json()
    rest = api.get("/orgs", {"limit": 10, "cursor": page["next_cursor"]}).json()
    assert len(page["items"]) == 10 and page["items"][-1]["id"] > rest["items"][0]["id"]


def test_review_queue_and_my_filings_in_constant_queries(api, rep, reviewer):
    submitted(rep, name="民治社区甲合唱团", start=1)
    rev, mine = api.as_user(reviewer), api.as_user(rep)
    one_review = count_queries(lambda: rev.get("/review/filings"))
    one_mine = count_queries(lambda: mine.get("/filings"))
    for i in range(2, 12):
        submitted(rep, name=f"民治社区{i}号合唱团", start=i * 20)
    assert count_queries(lambda: rev.get("/review/filings", {"limit": 50})) == one_review
    assert count_queries(lambda: mine.get("/filings", {"limit": 50})) == one_mine
    assert len(rev.get("/review/filings", {"limit": 50}).json()["items"]) == 11


def test_due_soon_and_overdue_warnings_reach_reviewers_once(api, rep, reviewer):
    filing = submitted(rep)
    services.filing_accept(filing=filing, actor=reviewer, today=date(2026, 3, 2))  # due 7 working days later
    filing.refresh_from_db()
    assert filing.due_date == date(2026, 3, 11)
    with time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=TZ), tick=False):
        assert jobs.filing_due_warnings() == {"due_soon": 1, "overdue": 0}
        assert jobs.filing_due_warnings() == {"due_soon": 0, "overdue": 0}
        assert api.as_user(reviewer).get("/review/filings", {"overdue": True}).json()["items"] == []
    with time_machine.travel(datetime(2026, 3, 12, 9, tzinfo=TZ), tick=False):
        assert jobs.filing_due_warnings()["overdue"] == 1
        assert jobs.filing_due_warnings()["overdue"] == 0
        queue = api.as_user(reviewer).get("/review/filings", {"overdue": True}).json()["items"]
        assert [f["id"] for f in queue] == [filing.pk] and queue[0]["overdue"] is True
    note = Notification.objects.get(user=reviewer, kind="filing.overdue")
    assert note.urgent and note.data["link"] == f"/pages/review/filing?id={filing.pk}"
    assert not Notification.objects.filter(user=rep, kind="filing.overdue").exists()


def test_directory_search_finds_short_chinese_keywords_and_filing_numbers(api, rep):
    bare_group(rep, name="民治社区夕阳红合唱团", number="440309002-2026-00009")
    bare_group(rep, name="观城社区书法协会", community=OTHER_COMMUNITY, number="440309002-2026-00010")
    bare_group(rep, name="合作养老互助会", number="440309002-2026-00011")  # 合 and 唱 apart

    def names(q: str) -> list[str]:
        response = api.get("/orgs", {"q": q})
        assert response.status_code == 200, response.json()
        return sorted(g["name"] for g in response.json()["items"])

    assert names("合唱") == ["民治社区夕阳红合唱团"]
    assert names("书") == ["观城社区书法协会"]
    assert names("社区 协会") == ["观城社区书法协会"]
    assert names("2026-00010") == ["观城社区书法协会"]
    assert names("不存在") == []
