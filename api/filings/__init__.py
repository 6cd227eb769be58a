"""Community-group filing: drafts, attachments, submission, review, groups, annual reports, credit
lists. One router per sub-resource, mounted here without a prefix (paths are written in full in
each module); schemas in ``schemas.py``. Operation ids are given explicitly, as published before
the package split (``api_filings_<function>``)."""

from __future__ import annotations

from ninja import Router

from api.filings import annual_reports, attachments, credit_listings, filings, lookups, orgs, review

router = Router(tags=["filings"])
for sub in (lookups, orgs, filings, attachments, review, annual_reports, credit_listings):
    router.add_router("", sub.router)
