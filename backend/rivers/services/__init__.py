"""Writes of the rivers domain, one module per sub-domain:

- ``rivers``: rivers and segments (division staff);
- ``policies``: patrol minimums per division;
- ``stewards``: 河小二 teams and steward assignments (coordinators);
- ``patrols``: live and offline GPS patrols, their figures and the hours they credit;
- ``photos``: patrol and issue photos;
- ``issues``: river issue reports and their workflow.

Side effects each service says it has: audit rows (always), notifications (in the same
transaction, delivered after commit), files in the default storage (patrol maps, photos; written
before the rows that name them and removed again if the transaction fails), service records in
the volunteers domain (a valid patrol, once, through ``service_record_create``).

Every public function is re-exported here: ``from backend.rivers.services import x`` and
``services.x`` keep working.
"""

from backend.rivers.selectors import GPS_PURPOSE
from backend.rivers.services.issues import (
    river_issue_accept,
    river_issue_assign,
    river_issue_close,
    river_issue_reject,
    river_issue_report,
    river_issue_resolve,
    river_issue_verify,
    river_issues_flag_overdue,
)
from backend.rivers.services.patrols import (
    PointInput,
    PointsResult,
    patrol_finish,
    patrol_points_add,
    patrol_start,
    patrol_upload,
    patrols_finish_stale,
)
from backend.rivers.services.photos import patrol_photo_add, river_issue_photo_add
from backend.rivers.services.policies import patrol_policy_set
from backend.rivers.services.rivers import river_create, segment_create, segment_update
from backend.rivers.services.stewards import (
    steward_assign,
    steward_assignment_end,
    steward_team_create,
    steward_team_member_add,
    steward_team_member_remove,
    steward_team_membership_respond,
)

__all__ = [
    "GPS_PURPOSE",
    "PointInput",
    "PointsResult",
    "patrol_finish",
    "patrol_photo_add",
    "patrol_points_add",
    "patrol_policy_set",
    "patrol_start",
    "patrol_upload",
    "patrols_finish_stale",
    "river_create",
    "river_issue_accept",
    "river_issue_assign",
    "river_issue_close",
    "river_issue_photo_add",
    "river_issue_reject",
    "river_issue_report",
    "river_issue_resolve",
    "river_issue_verify",
    "river_issues_flag_overdue",
    "segment_create",
    "segment_update",
    "steward_assign",
    "steward_assignment_end",
    "steward_team_create",
    "steward_team_member_add",
    "steward_team_member_remove",
    "steward_team_membership_respond",
]
