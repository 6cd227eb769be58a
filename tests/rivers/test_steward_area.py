"""Stewards stay inside the assigning organisation's area (security finding of issue 17): a
coordinator cannot make anyone river chief of another street's segment, and an assignment
outside the area (one made before the check) gives no right to read or reopen that street's
issues."""

from __future__ import annotations

import pytest

from backend.rivers.models import RiverIssue, StewardAssignment
from backend.volunteers.models import Organisation
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.rivers import factories as f
from tests.rivers.test_issues import _photo, _report

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_street_org(db):
    f.divisions()
    return Organisation.objects.create(name="观湖河小二志愿服务队", division_id=f.OTHER_STREET)


def test_coordinator_cannot_assign_a_river_chief_outside_the_organisations_area(
    api, segment, other_street_org
):
    coord = api.as_user(f.coordinator_of(other_street_org))
    volunteer = f.volunteer()
    body = {"organisation_id": other_street_org.pk, "kind": "river_chief", "user_id": volunteer.pk}
    assert_error(coord.post(f"/rivers/segments/{segment.pk}/assignments", body), 403, "segment_outside_area")
    team = coord.post("/rivers/teams", {"organisation_id": other_street_org.pk, "name": "观湖一队"}).json()
    team_body = {"organisation_id": other_street_org.pk, "kind": "team", "team_id": team["id"]}
    assert_error(
        coord.post(f"/rivers/segments/{segment.pk}/assignments", team_body), 403, "segment_outside_area"
    )
    assert not StewardAssignment.objects.filter(segment=segment).exists()


def test_an_organisation_of_a_wider_area_may_assign_inside_it(api, segment):
    f.divisions()
    district_org = Organisation.objects.create(name="龙华区河小二总队", division_id=f.DISTRICT)
    coord = api.as_user(f.coordinator_of(district_org))
    body = {"organisation_id": district_org.pk, "kind": "river_chief", "user_id": f.volunteer().pk}
    assert coord.post(f"/rivers/segments/{segment.pk}/assignments", body).status_code == 201


def _resolved_issue(api, segment, handler, reporter) -> int:
    issue_id = _report(api, reporter, segment)["id"]
    staff = api.as_user(handler)
    staff.post(f"/river-issues/{issue_id}/accept")
    staff.post(f"/river-issues/{issue_id}/assign", {"assignee_id": handler.pk})
    _photo(api, handler, issue_id)
    assert staff.post(f"/river-issues/{issue_id}/resolve", {"resolution": "已清理"}).status_code == 200
    return issue_id


def test_an_assignment_outside_the_area_gives_no_right_to_read_or_reopen_issues(
    api, segment, handler, other_street_org
):
    issue_id = _resolved_issue(api, segment, handler, UserFactory())
    outsider_chief = f.volunteer(name="钱外河长")
    # As the finding's coordinator could make before the check (written directly).
    StewardAssignment.objects.create(
        segment=segment,
        organisation=other_street_org,
        kind=StewardAssignment.Kind.RIVER_CHIEF,
        user=outsider_chief,
    )
    client = api.as_user(outsider_chief)
    assert_error(client.get(f"/river-issues/{issue_id}"), 404, "not_found")
    assert_error(
        client.post(f"/river-issues/{issue_id}/verify", {"confirmed": False, "note": "x"}), 404, "not_found"
    )
    assert RiverIssue.objects.get(pk=issue_id).status == "resolved"


def test_a_river_chief_inside_the_area_still_verifies(api, segment, handler, chief):
    issue_id = _resolved_issue(api, segment, handler, UserFactory())
    r = api.as_user(chief).post(f"/river-issues/{issue_id}/verify", {"confirmed": False, "note": "仍有污水"})
    assert r.status_code == 200 and r.json()["status"] == "assigned"
