"""One question every endpoint asks: may this user do X on this object?

Domains register rules by action name (``filing.review``, ``shift.roster``, …) in their
``rules.py``, imported by their AppConfig. A platform admin may do everything a rule allows to
any role. Refusals of objects the user must not even know about raise ``NotFound`` (404), so
ids cannot be probed; ``hide=False`` raises ``PermissionDenied`` (403) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.errors import NotAuthenticated, NotFound, PermissionDenied

Rule = Callable[[Any, Any], bool]
_rules: dict[str, Rule] = {}


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
    from backend.accounts.selectors import user_is_platform_admin

    return bool(check(user, obj)) or user_is_platform_admin(user)


def authorize(user: Any, action: str, obj: Any = None, *, hide: bool = True) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not can(user, action, obj):
        raise NotFound() if hide else PermissionDenied()


def registered_rules() -> list[str]:
    return sorted(_rules)
