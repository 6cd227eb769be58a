"""API routes of the checkin domain, one module per sub-resource: ``events`` (events, their
shifts and staff), ``lists``, ``passes`` (coordinators' and holders' own), ``scans`` (upload and
HTTP fallback, annulments, conflicts, offline bundle, scan log, live counts), ``devices``
(scanner devices and their gates); ``schemas`` holds every schema.

The scanner and dashboard websockets live in ``realtime.checkin``; ``POST /events/{id}/checkins``
is their HTTP twin and goes through the same service.
"""

from __future__ import annotations

from ninja import Router

from api.checkin import devices, events, lists, passes, scans

router = Router(tags=["checkin"])


for _sub in (events, lists, passes, scans, devices):
    router.add_router("", _sub.router)
