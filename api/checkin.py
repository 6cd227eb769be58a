"""API routes of the checkin domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["checkin"])
