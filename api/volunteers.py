"""API routes of the volunteers domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["volunteers"])
