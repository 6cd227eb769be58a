"""API routes of the notifications domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["notifications"])
