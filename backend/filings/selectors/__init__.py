"""Reads of the filings domain, one module per sub-domain:

- ``policies``      the policy in force for a division (inherited down the tree)
- ``names``         name checks (民政部令69号)
- ``filings``       one filing, the representative's filings, the filing as the API shows it
- ``checks``        the submission check (every problem, with field and code)
- ``review``        the reviewers' scope and queue, who decides a division
- ``groups``        the public directory, the representative's groups, a group's page
- ``credit_lists``  listings of a group

Everything public is importable from ``backend.filings.selectors`` as before.
"""

from backend.filings.calendar import add_months, add_years
from backend.filings.selectors._common import (
    CLOCK_RUNNING,
    ID_PURPOSE,
    OPEN_STATUSES,
    overdue_q,
    today_local,
)
from backend.filings.selectors.checks import REQUIRED_TEXT, filing_check
from backend.filings.selectors.credit_lists import group_listings, listing_get
from backend.filings.selectors.filings import (
    RosterEntry,
    filing_attachment_get,
    filing_attachments,
    filing_detail,
    filing_get,
    filing_history,
    filing_is_overdue,
    filing_list_for_rep,
    filing_persons,
    filings_shown,
)
from backend.filings.selectors.groups import (
    group_annual_reports,
    group_detail,
    group_directory,
    group_founders,
    group_get,
    group_list_for_rep,
    group_open_filing,
    groups_shown,
)
from backend.filings.selectors.names import NameProblem, name_check, name_form_problems, name_key
from backend.filings.selectors.policies import POLICY_FIELDS, EffectivePolicy, filing_policy_effective
from backend.filings.selectors.review import (
    filing_review_list,
    filing_review_queryset,
    reviewer_scope_q,
    reviewers_for,
)

__all__ = [
    "CLOCK_RUNNING",
    "ID_PURPOSE",
    "OPEN_STATUSES",
    "POLICY_FIELDS",
    "REQUIRED_TEXT",
    "EffectivePolicy",
    "NameProblem",
    "RosterEntry",
    "add_months",
    "add_years",
    "filing_attachment_get",
    "filing_attachments",
    "filing_check",
    "filing_detail",
    "filing_get",
    "filing_history",
    "filing_is_overdue",
    "filing_list_for_rep",
    "filing_persons",
    "filing_policy_effective",
    "filing_review_list",
    "filing_review_queryset",
    "filings_shown",
    "group_annual_reports",
    "group_detail",
    "group_directory",
    "group_founders",
    "group_get",
    "group_list_for_rep",
    "group_listings",
    "group_open_filing",
    "groups_shown",
    "listing_get",
    "name_check",
    "name_form_problems",
    "name_key",
    "overdue_q",
    "reviewer_scope_q",
    "reviewers_for",
    "today_local",
]
