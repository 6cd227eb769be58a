"""API routes of the checkin domain, one module per sub-resource: ``events`` (events, their
shifts and staff), ``lists``, ``passes`` (coordinators' and holders' own), ``scans`` (upload and
HTTP fallback, offline bundle, scan log, live counts); ``schemas`` holds every schema.

The scanner and dashboard websockets live in ``realtime.checkin``; ``POST /events/{id}/checkins``
is their HTTP twin and goes through the same service.
"""

from __future__ import annotations

from ninja import Router

from api.checkin import events, lists, passes, scans

router = Router(tags=["checkin"])


def _keep_operation_ids(*subs: Router) -> None:
    """Operation ids stay those published when the domain was one module, ``api_checkin_<view>``:
    clients generated from the OpenAPI document name their methods after them."""
    for sub in subs:
        for path_view in sub.path_operations.values():
            for operation in path_view.operations:
                operation.operation_id = (
                    operation.operation_id or f"api_checkin_{operation.view_func.__name__}"
                )


for _sub in (events, lists, passes, scans):
    _keep_operation_ids(_sub.router)
    router.add_router("", _sub.router)
