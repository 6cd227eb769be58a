"""API routes of the filings domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["filings"])
