"""Writes of the filings domain, one module per sub-domain. Each service owns its transaction,
audits, and notifies:

- ``_common``         the filing state machine (``TRANSITIONS``), the history row of every change
- ``drafts``          the representative's draft: fields, community, roster
- ``attachments``     documents through the media pipeline
- ``submission``      submit (everything checked at once), withdraw
- ``review``          accept, request corrections, reject; the audited roster read; due warnings
- ``approval``        approve, and what approval does to the group
- ``groups``          after approval: change / renewal / deregistration filings, revocation, expiry
- ``annual_reports``  annual reports
- ``credit_lists``    listing on and removal from the credit lists
- ``policies``        staff-kept policies and registered organisations

Everything public is importable from ``backend.filings.services`` as before.
"""

from backend.filings.services._common import EDITABLE, FILING_FIELDS, GROUP_FIELDS, TRANSITIONS
from backend.filings.services.annual_reports import annual_report_submit
from backend.filings.services.approval import filing_approve
from backend.filings.services.attachments import filing_attachment_add, filing_attachment_remove
from backend.filings.services.credit_lists import credit_listing_create, credit_listing_remove
from backend.filings.services.drafts import filing_create, filing_update
from backend.filings.services.groups import (
    group_expire,
    group_filing_create,
    group_renewal_remind,
    group_revoke,
)
from backend.filings.services.policies import (
    filing_policy_save,
    registered_organisation_save,
    unknown_attachment_kinds,
)
from backend.filings.services.review import (
    filing_accept,
    filing_detail_reveal,
    filing_due_notify,
    filing_reject,
    filing_request_correction,
    filing_roster_reveal,
)
from backend.filings.services.submission import filing_submit, filing_withdraw

__all__ = [
    "EDITABLE",
    "FILING_FIELDS",
    "GROUP_FIELDS",
    "TRANSITIONS",
    "annual_report_submit",
    "credit_listing_create",
    "credit_listing_remove",
    "filing_accept",
    "filing_approve",
    "filing_attachment_add",
    "filing_attachment_remove",
    "filing_create",
    "filing_detail_reveal",
    "filing_due_notify",
    "filing_policy_save",
    "filing_reject",
    "filing_request_correction",
    "filing_roster_reveal",
    "filing_submit",
    "filing_update",
    "filing_withdraw",
    "group_expire",
    "group_filing_create",
    "group_renewal_remind",
    "group_revoke",
    "registered_organisation_save",
    "unknown_attachment_kinds",
]
