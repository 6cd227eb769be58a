"""Every text a client shows follows ``Accept-Language``: notification texts and choice labels
(Chinese by default, English under ``en``), and the kinds all have English templates."""

from __future__ import annotations

import re
import string

import pytest

from backend.notifications.kinds import all_kinds
from backend.notifications.services import notify
from backend.rivers.models import RiverIssue

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_notification_texts_follow_accept_language(api, user):
    notify(user=user, kind="system.welcome", params={"name": "Li"})
    english = api.as_user(user, lang="en").get("/me/notifications").json()["items"][0]
    assert (english["title"], english["body"]) == (
        "Welcome to Linli",
        "Hello Li! Decisions, shift reminders and assignments will reach you here.",
    )
    chinese = api.as_user(user, lang="zh-CN").get("/me/notifications").json()["items"][0]
    assert chinese["title"] == "欢迎使用邻里" and "你好" in chinese["body"]


def test_every_kind_has_english_templates_with_the_same_fields():
    fields = string.Formatter()
    for kind in all_kinds():
        if kind.name.startswith("test."):
            continue
        assert kind.title_en and kind.body_en, kind.name
        assert not CJK.search(kind.title_en + kind.body_en), kind.name
        zh = {f for _, f, _, _ in fields.parse(kind.title + kind.body) if f}
        en = {f for _, f, _, _ in fields.parse(kind.title_en + kind.body_en) if f}
        assert en <= zh, (kind.name, en - zh)


class _Request:
    def __init__(self, lang: str) -> None:
        self.headers = {"Accept-Language": lang}


def test_choice_labels_follow_accept_language():
    from api.filings.schemas import FilingOrgOut, FilingSummaryOut
    from backend.filings.models import Filing, Group

    group = Group(status=Group.Status.ACTIVE)
    assert FilingOrgOut.resolve_status_label(group, {"request": _Request("en")}) == "Filed"
    assert FilingOrgOut.resolve_status_label(group, {"request": _Request("zh-CN")}) == "已备案"
    filing = Filing(status=Filing.Status.CORRECTION_REQUESTED)
    assert (
        FilingSummaryOut.resolve_status_label(filing, {"request": _Request("en")}) == "Corrections requested"
    )
    assert (
        FilingSummaryOut.resolve_status_label(Filing(status="approved"), {"request": _Request("en")})
        == "Approved"
    )


def test_river_issue_type_label_in_english():
    from api.rivers.schemas import RiverIssueOut

    issue = RiverIssue(type=RiverIssue.Type.GARBAGE_DUMPING)
    assert RiverIssueOut.resolve_type_label(issue, {"request": _Request("en")}) == "Garbage dumping"
    assert RiverIssueOut.resolve_type_label(issue, {"request": None}) == "倾倒垃圾"
