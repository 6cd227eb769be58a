"""The pure pieces behind the rivers services and API: the workflow table, line validation,
why a patrol does not count, what a viewer sees of a reporter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from backend.core.errors import ValidationFailed
from backend.rivers.geo import CleanTrack, TrackPoint
from backend.rivers.models import ISSUE_WORKFLOW, RiverIssue
from backend.rivers.permissions import ISSUE_STEP_ACTIONS, reporter_view, river_issue_steps
from backend.rivers.selectors import EffectivePolicy
from backend.rivers.services.patrols import _invalid_reasons
from backend.rivers.services.rivers import line_geometry
from tests.rivers import factories as f

S = RiverIssue.Status


def test_every_offered_step_is_a_step_of_the_workflow_and_every_status_is_reachable():
    assert set(ISSUE_STEP_ACTIONS) <= set(ISSUE_WORKFLOW)
    assert set(ISSUE_WORKFLOW) - set(ISSUE_STEP_ACTIONS) == {"reopen"}  # an answer of "verify"
    reached = {S.REPORTED} | {step.to for step in ISSUE_WORKFLOW.values()}
    assert reached == set(S.values)
    # Nothing leaves a final status.
    starts = {status for step in ISSUE_WORKFLOW.values() for status in step.allowed_from}
    assert not starts & {S.CLOSED, S.REJECTED}


def test_line_geometry_rounds_to_seven_decimals_and_empty_means_no_line():
    line = line_geometry(
        {"type": "LineString", "coordinates": [[114.030000004, 22.6], [114.031, 22.601]]}, "wgs84"
    )
    assert line == {"type": "LineString", "coordinates": [[114.03, 22.6], [114.031, 22.601]]}
    assert line_geometry(None, "wgs84") == {} and line_geometry({}, "wgs84") == {}


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [114.0, 22.6]},
        {"type": "LineString", "coordinates": [[114.0, 22.6]]},
        {"type": "LineString", "coordinates": [[114.0, 22.6], [200.0, 22.6]]},
        {"type": "LineString", "coordinates": [[114.0, 22.6], [114.0, float("nan")]]},
        {"type": "LineString", "coordinates": [[114.0, 22.6], ["114", 22.6]]},
        {"type": "LineString", "coordinates": [[114.0, 22.6], [114.0]]},
    ],
)
def test_line_geometry_refuses_what_is_not_a_line_of_lon_lat_pairs(geometry):
    with pytest.raises(ValidationFailed):
        line_geometry(geometry, "wgs84")


def _track(minutes: int, metres: float, points: int = 3) -> CleanTrack:
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    fixes = [
        TrackPoint(t0 + timedelta(minutes=minutes * i / max(points - 1, 1)), 22.63, 114.03)
        for i in range(points)
    ]
    return CleanTrack(points=fixes, distance_m=metres, duration_s=minutes * 60)


def test_a_patrol_counts_when_it_meets_the_minimums():
    policy = EffectivePolicy(min_duration_s=600, min_distance_m=1000, division_code=None)
    assert _invalid_reasons(_track(20, 1500), policy, []) == []
    assert _invalid_reasons(_track(5, 300), policy, []) == ["too_short", "too_little_distance"]
    assert _invalid_reasons(_track(0, 0, points=1), policy, []) == [
        "too_few_points",
        "too_short",
        "too_little_distance",
    ]


def test_a_patrol_far_from_its_segment_is_off_segment():
    policy = EffectivePolicy(min_duration_s=0, min_distance_m=0, division_code=None)
    far = [[115.0, 23.0], [115.01, 23.01]]  # ~150 km away
    assert _invalid_reasons(_track(20, 1500), policy, far) == ["off_segment"]


def _issue(reporter_id: int = 7) -> SimpleNamespace:
    reporter = SimpleNamespace(pk=reporter_id, display_name="陈小明", phone="13912345678")
    return SimpleNamespace(reporter=reporter)


def test_handlers_reach_the_reporter_the_reporter_sees_themselves_others_a_masked_name():
    issue = _issue()
    handler = reporter_view(issue, user=SimpleNamespace(pk=1), handler=True)
    assert (handler.id, handler.name) == (7, "陈小明") and handler.phone and "****" in handler.phone
    own = reporter_view(issue, user=SimpleNamespace(pk=7), handler=False)
    assert (own.id, own.name, own.phone) == (7, "陈小明", None)
    other = reporter_view(issue, user=SimpleNamespace(pk=2), handler=False)
    assert (other.id, other.name, other.phone) == (None, "陈*明", None)


@pytest.mark.django_db
def test_steps_offered_follow_the_status_and_the_role(segment, chief):
    f.divisions()
    handler = f.handler_of(f.STREET)
    issue = RiverIssue(
        segment=segment, division_id=segment.division_id, reporter_id=chief.pk, status=S.REPORTED
    )
    assert river_issue_steps(issue, user=handler) == ["accept", "reject"]
    assert river_issue_steps(issue, user=chief) == []
    issue.status = S.RESOLVED
    assert river_issue_steps(issue, user=chief) == ["verify"]
    assert river_issue_steps(issue, user=handler) == []
