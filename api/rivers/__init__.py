"""API routes of the rivers domain: rivers and segments, patrol policies, stewards, patrols,
river issue reports. One router per sub-resource, mounted at the API root: every path is spelt
out in full in its module.

``POST /patrols:upload`` is a literal path: ninja turns ``{...}`` into Django converters and
leaves other characters alone, and Django's ``path()`` escapes literal text, so the colon needs
no special routing (a test checks it reaches ``api.rivers.patrols``).

All methods of one path live in one module (Django matches the first pattern of a path).
"""

from __future__ import annotations

from ninja import Router

from api.rivers import issues, patrols, policies, rivers, stewards

router = Router(tags=["rivers"])
router.add_router("", rivers.router)
router.add_router("", policies.router)
router.add_router("", stewards.router)
router.add_router("", patrols.router)
router.add_router("", issues.router)

__all__ = ["router"]
