"""API routes of the volunteers domain: registration, organisations and service posts,
activities and shifts, sign-ups, service hours and certificates.

Mounted at the API root: every path is spelt out in full in the sub-resource routers, one module
each (``profiles``, ``organisations``, ``activities``, ``signups``, ``hours``, ``certificates``),
all schemas in ``schemas``. Every method of a path lives in the same router. Endpoints fetch and
authorize in one call (``backend.volunteers.permissions``), then call one service or selector.
"""

from __future__ import annotations

from ninja import Router

from api.volunteers import (
    activities,
    calendar,
    certificates,
    consents,
    guardians,
    hours,
    id_corrections,
    organisations,
    profiles,
    selfcheckin,
    signups,
    teams,
    transfers,
)

router = Router(tags=["volunteers"])


for _sub in (
    profiles,
    consents,
    guardians,
    organisations,
    activities,
    signups,
    teams,
    transfers,
    selfcheckin,
    hours,
    certificates,
    id_corrections,
    calendar,
):
    router.add_router("", _sub.router)
