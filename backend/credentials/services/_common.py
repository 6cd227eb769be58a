"""Helpers shared by the credentials services: cleaned text and field checks that collect errors,
so one request reports every bad field at once."""

from __future__ import annotations

import unicodedata
from typing import Any

from backend.core.errors import field_error
from backend.core.i18n import T
from backend.credentials.errors import ReasonRequired


def clean_text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def required_text(errors: list, field: str, value: str, max_length: int) -> str:
    if not value:
        errors.append(field_error(field, "required", T("此项必填。", "This field is required.")))
    elif len(value) > max_length:
        errors.append(field_error(field, "too_long", T("内容过长。", "Too long."), max_length=max_length))
    return value


def optional_text(errors: list, field: str, value: str, max_length: int) -> str:
    if len(value) > max_length:
        errors.append(field_error(field, "too_long", T("内容过长。", "Too long."), max_length=max_length))
    return value


def reason_text(reason: str) -> str:
    """The cleaned reason of a decision (at most 2,000 characters); ``ReasonRequired`` if blank."""
    text = clean_text(reason)
    if not text:
        raise ReasonRequired(
            errors=[field_error("reason", "required", T("请填写原因。", "A reason is required."))]
        )
    return text[:2000]


def actor_user(actor: Any) -> Any:
    """The user behind ``actor`` for a ``created_by`` column (``None`` for scripts and jobs)."""
    return actor if getattr(actor, "is_authenticated", False) else None
