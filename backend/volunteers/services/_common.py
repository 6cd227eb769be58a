"""Private helpers the volunteers services share: clock, retries, field checks, the sign-up change
record (audit + listeners) and the lock order for moving places."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.db import run_retrying
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import InvalidPhone, normalize_mainland_mobile
from backend.divisions.models import Division
from backend.volunteers import conf, hooks
from backend.volunteers.models import Shift, Signup

R = TypeVar("R")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _retrying(func: Callable[[], R]) -> R:
    return run_retrying(func, attempts=conf.signup_retries())


def _division(code: str, field: str = "division_code") -> Division:
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationFailed(
            errors=[field_error(field, "unknown_division", T("没有该行政区划。", "Unknown division."))]
        )
    return division


def _mobile(value: str, field: str) -> str:
    try:
        return normalize_mainland_mobile(value)
    except InvalidPhone:
        raise ValidationFailed(
            errors=[
                field_error(
                    field, "invalid_phone", T("请输入有效的手机号码。", "Enter a valid mobile number.")
                )
            ]
        ) from None


def _clean_list(values: list[str] | None) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        text = str(value).strip()
        if text and text not in seen:
            seen.append(text[:40])
    return seen[:30]


def _ends_before_start(field: str) -> dict[str, Any]:
    return field_error(
        field, "before_start", T("结束时间须晚于开始时间。", "The end must be after the start.")
    )


def _size_errors(*, capacity: int, waitlist_size: int = 0) -> list[dict[str, Any]]:
    """Places of a shift or series: at least one, a waitlist of none or more."""
    errors = []
    if capacity < 1:
        errors.append(
            field_error("capacity", "too_small", T("名额至少为 1。", "Capacity must be at least 1."))
        )
    if waitlist_size < 0:
        errors.append(
            field_error(
                "waitlist_size", "too_small", T("候补名额不能为负。", "Waitlist size cannot be negative.")
            )
        )
    return errors


def _changed(signup: Signup, *, actor: User | None, action: str, data: dict[str, Any] | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=signup,
        data={"shift": signup.shift_id, "status": signup.status, **(data or {})},
    )
    hooks.signup_changed(signup)


def _lock_shift_of(*, signup_id: int) -> None:
    """Lock the sign-up's shift row first (PostgreSQL), so every path that frees or moves places
    takes its locks in the same order (shift, then sign-ups) and two of them cannot deadlock.
    SQLite's BEGIN IMMEDIATE already serialises writers."""
    shift_id = Signup.objects.filter(pk=signup_id).values_list("shift_id", flat=True).first()
    if shift_id is not None:
        list(Shift.objects.select_for_update().filter(pk=shift_id).values_list("pk", flat=True))
