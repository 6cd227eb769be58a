"""Who may do what with divisions: reviewers of a street (or above) add its communities."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.accounts.hooks import grant_scope_exists
from backend.accounts.selectors import user_reviews_division
from backend.core.permissions import rule
from backend.divisions.models import Division


class Action(StrEnum):
    MANAGE = "division.manage"


@rule(Action.MANAGE)
def manage_division(user: Any, code: str) -> bool:
    return user_reviews_division(user, code)


@grant_scope_exists.register
def division_scope_exists(scope_type: str, scope_id: str) -> bool | None:
    """Reviewer grants name a division by its statistical code."""
    if scope_type != "division":
        return None
    return Division.objects.filter(code=scope_id).exists()
