"""API routes of the credentials domain."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["credentials"])
