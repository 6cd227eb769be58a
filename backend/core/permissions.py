"""One question every endpoint asks: may this user do X on this object?

Each domain names its actions as constants (``backend/<domain>/permissions.py``:
``class Action(StrEnum)``, values like ``"filing.review"``) and registers one rule per action
with ``@rule(Action.REVIEW)``; the module is imported by the domain's AppConfig. Next to the
rules the domain offers fetch-and-authorize helpers (``shift_access(user=..., shift_id=...,
action=...)``), so an endpoint asks for "the shift this user may manage" in one call.

Who passes every rule (platform admins) is decided by the accounts app through the
``permission_bypass`` hook, so this module needs nothing above core. Refusals of objects the
user must not even know about raise ``NotFound`` (404), so ids cannot be probed; ``hide=False``
raises ``PermissionDenied`` (403) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.errors import NotAuthenticated, NotFound, PermissionDenied
from backend.core.hooks import Hook

Rule = Callable[[Any, Any], bool]
_rules: dict[str, Rule] = {}

#: ``(user) -> bool``: true for users who pass every rule (registered by backend.accounts).
permission_bypass: Hook[Callable[[Any], bool]] = Hook("core.permission_bypass")


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        if action in _rules and _rules[action] is not func:
            raise RuntimeError(f"Permission rule {action!r} is registered twice.")
        _rules[action] = func
        return func

    return register


def can(user: Any, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    check = _rules.get(action)
    if check is None:
        raise KeyError(f"No permission rule named {action!r}.")
    return bool(check(user, obj)) or any(bypass(user) for bypass in permission_bypass)


def authorize(user: Any, action: str, obj: Any = None, *, hide: bool = True) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not can(user, action, obj):
        raise NotFound() if hide else PermissionDenied()


def registered_rules() -> list[str]:
    return sorted(_rules)
