"""API routes of the volunteers domain: registration, organisations and service posts,
activities and shifts, sign-ups, service hours and certificates.

Mounted at the API root: every path is spelt out in full in the sub-resource routers, one module
each (``profiles``, ``organisations``, ``activities``, ``signups``, ``hours``, ``certificates``),
all schemas in ``schemas``. Every method of a path lives in the same router. Endpoints fetch and
authorize in one call (``backend.volunteers.permissions``), then call one service or selector.
"""

from __future__ import annotations

from ninja import Router

from api.volunteers import activities, certificates, hours, organisations, profiles, signups

router = Router(tags=["volunteers"])


def _with_operation_ids(sub: Router) -> Router:
    """``sub`` with the operation ids clients were generated with (``api_volunteers_<view>``),
    as when all the views lived in one module ``api/volunteers.py``."""
    for path_view in sub.path_operations.values():
        for operation in path_view.operations:
            operation.operation_id = (
                operation.operation_id or f"api_volunteers_{operation.view_func.__name__}"
            )
    return sub


for _sub in (profiles, organisations, activities, signups, hours, certificates):
    router.add_router("", _with_operation_ids(_sub.router))
