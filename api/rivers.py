"""API routes of the rivers domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["rivers"])
