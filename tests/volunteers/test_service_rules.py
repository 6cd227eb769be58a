"""The rules the volunteers services apply, as pure functions (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.volunteers.hours import DayRuling, daily_ruling
from backend.volunteers.services.activities import programme_link_errors
from backend.volunteers.services.profiles import consents_missing

LIMITS = {"max_pairs": 3, "valid_hours": Decimal("8"), "approval_hours": Decimal("12")}


def ruling(pairs: int, before: str, hours: str, **limits) -> DayRuling:
    return daily_ruling(
        pairs_before=pairs, hours_before=Decimal(before), hours=Decimal(hours), **{**LIMITS, **limits}
    )


def test_a_day_up_to_the_valid_limit_is_valid():
    assert ruling(0, "0", "3") == DayRuling("valid", "", Decimal("3"))
    assert ruling(2, "5", "3") == DayRuling("valid", "", Decimal("3"))


def test_a_day_past_the_valid_limit_waits_for_the_organisation():
    assert ruling(1, "7", "1.5") == DayRuling("pending", "daily_over_valid", Decimal("1.5"))
    assert ruling(1, "7", "5") == DayRuling("pending", "daily_over_valid", Decimal("5"))


def test_a_day_past_the_approval_limit_is_escalated():
    assert ruling(2, "10", "2.5") == DayRuling("escalated", "daily_over_approval", Decimal("2.5"))


def test_the_pair_past_the_daily_maximum_is_refused_with_no_hours():
    assert ruling(3, "1", "1") == DayRuling("refused", "daily_pair_limit", Decimal("0"))
    assert ruling(4, "0", "0.5") == DayRuling("refused", "daily_pair_limit", Decimal("0"))


def test_the_pair_limit_is_checked_before_the_hours():
    assert ruling(3, "20", "5").status == "refused"


def test_daily_limits_follow_the_settings(settings):
    settings.LINLI_VOLUNTEER_DAILY_MAX_PAIRS = 1
    settings.LINLI_VOLUNTEER_DAILY_VALID_HOURS = 2
    settings.LINLI_VOLUNTEER_DAILY_APPROVAL_HOURS = 4
    rule = daily_ruling
    assert rule(pairs_before=0, hours_before=Decimal("0"), hours=Decimal("2")).status == "valid"
    assert rule(pairs_before=0, hours_before=Decimal("0"), hours=Decimal("3")).status == "pending"
    assert rule(pairs_before=0, hours_before=Decimal("0"), hours=Decimal("4.5")).status == "escalated"
    assert rule(pairs_before=1, hours_before=Decimal("0"), hours=Decimal("1")).status == "refused"


REQUIRED = {"terms": "2026-01", "privacy": "2026-01"}


@pytest.mark.parametrize(
    ("given", "accepted", "missing"),
    [
        ([("terms", "2026-01"), ("privacy", "2026-01")], [], []),
        ([], [("terms", "2026-01"), ("privacy", "2026-01")], []),
        ([("terms", "2026-01")], [("privacy", "2026-01")], []),
        ([("terms", "2025-01")], [("privacy", "2025-06")], ["terms", "privacy"]),
        ([(None, None)], [], ["terms", "privacy"]),
    ],
)
def test_consents_missing_are_current_versions_neither_given_nor_accepted(given, accepted, missing):
    assert consents_missing(given=given, accepted=accepted, required=REQUIRED) == missing


@pytest.mark.parametrize(
    ("programme", "has_post", "has_segment", "problems"),
    [
        ("red_vest", True, False, []),
        ("red_vest", False, False, []),
        ("red_vest", False, True, [("river_segment_id", "not_allowed")]),
        ("river", False, True, []),
        ("river", False, False, [("river_segment_id", "required")]),
        ("river", True, True, [("post_id", "not_allowed")]),
        ("river", True, False, [("river_segment_id", "required"), ("post_id", "not_allowed")]),
    ],
)
def test_river_activities_need_a_segment_and_no_post(programme, has_post, has_segment, problems):
    errors = programme_link_errors(programme=programme, has_post=has_post, has_segment=has_segment)
    assert [(e["field"], e["code"]) for e in errors] == problems
