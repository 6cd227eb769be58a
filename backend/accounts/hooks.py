"""How the domains above accounts take part in roles and in a person's rights over their data.

Roles: accounts knows grants but not what a scope is (an event, a division...). Each domain that
owns a scope type says whether an id of it exists (``grant_scope_exists``) and who, besides
platform admins, may hand out which roles over it (``grant_delegations``: the check-in domain
lets coordinators grant the scanner and coordinator roles of their organisation's events).

Personal data (PIPL Art. 44-47): each domain owns its part of a person's data, so each registers

- ``personal_data``: ``(user) -> list[DataSection]``, its part of the copy (``GET /me/data``);
- ``account_cancelling``: ``(user) -> None``, called inside the transaction that records a
  cancellation: what must stop at once (push devices, WeChat bindings, future sign-ups);
- ``account_erasing``: ``(user, pseudonym) -> None``, called inside the transaction that carries
  the cancellation out after the cooling-off period: delete the personal data it holds, or
  replace it by the pseudonym where the records must be kept (service records, filing rosters,
  check-ins).

Implementations run in registration order (apps' ready(), which follows INSTALLED_APPS) and do
only their own database work: an exception rolls the whole step back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from backend.core.hooks import Hook
from backend.core.i18n import T


@dataclass(frozen=True)
class Delegation:
    """``roles`` over these scopes of ``scope_type`` may be granted and revoked by the user."""

    roles: frozenset[str]
    scope_type: str
    scope_ids: frozenset[str]

    def covers(self, role: str, scope_type: str, scope_id: str) -> bool:
        return role in self.roles and scope_type == self.scope_type and str(scope_id) in self.scope_ids


@dataclass(frozen=True)
class DataSection:
    """One part of a person's data copy: what it is, why Linli holds it, and the data."""

    key: str
    title: T
    purpose: T
    data: Any
    kept_after_cancellation: T | None = field(default=None)


#: ``(scope_type, scope_id) -> bool | None``: True/False for scope types the domain owns, else None.
grant_scope_exists: Hook[Callable[[str, str], bool | None]] = Hook("accounts.grant_scope_exists")
#: ``(user) -> list[Delegation]``: what the user may grant without being a platform admin.
grant_delegations: Hook[Callable[[Any], list[Delegation]]] = Hook("accounts.grant_delegations")

personal_data: Hook[Callable[[Any], list[DataSection]]] = Hook("accounts.personal_data")
account_cancelling: Hook[Callable[[Any], None]] = Hook("accounts.account_cancelling")
account_erasing: Hook[Callable[[Any, str], None]] = Hook("accounts.account_erasing")


def iso(value: Any) -> str | None:
    """A date or time for the data copy (ISO 8601, local time with its offset), or None."""
    if value is None:
        return None
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return value.isoformat()
