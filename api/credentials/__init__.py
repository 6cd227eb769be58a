"""Practitioner credentials: the association registry, QR badges and the public lookup.

Registry endpoints (``/associations/{id}/...``, ``/credentials/{id}/...``) are for association
admins of that association (``association_admin`` grant, scope ``association``) and platform
admins. The lookup endpoints (``/verify/...``) are public, rate-limited per client address and
never cached.

One router per sub-resource, mounted here in this order (the public lookup first: its
``/verify/keys`` and ``/verify/manual`` must come before ``/verify/{token}``):
``lookup``, ``associations``, ``practitioners``, ``credit`` (credit records, blacklist),
``credentials``, ``badges``. Schemas: ``schemas``.
"""

from __future__ import annotations

from ninja import Router

from api.credentials import associations, badges, credentials, credit, lookup, practitioners

router = Router(tags=["credentials"])


def _with_operation_ids(sub: Router) -> Router:
    """``sub`` with the operation ids clients were generated with (``api_credentials_<view>``),
    as when all the views lived in one module ``api/credentials.py``."""
    for path_view in sub.path_operations.values():
        for operation in path_view.operations:
            operation.operation_id = (
                operation.operation_id or f"api_credentials_{operation.view_func.__name__}"
            )
    return sub


for _sub in (lookup, associations, practitioners, credit, credentials, badges):
    router.add_router("", _with_operation_ids(_sub.router))
