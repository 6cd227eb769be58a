"""Who may do what with divisions: reviewers of a street (or above) add its communities."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.accounts.selectors import user_reviews_division
from backend.core.permissions import rule


class Action(StrEnum):
    MANAGE = "division.manage"


@rule(Action.MANAGE)
def manage_division(user: Any, code: str) -> bool:
    return user_reviews_division(user, code)
