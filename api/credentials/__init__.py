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


for _sub in (lookup, associations, practitioners, credit, credentials, badges):
    router.add_router("", _sub.router)
