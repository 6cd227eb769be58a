"""Helpers shared by the rivers services: input checks and file clean-up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from django.core.files.storage import default_storage
from django.utils import timezone

from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.divisions.models import Division
from backend.rivers.geo import DATUMS


def invalid(field: str, code: str, message: T) -> ValidationFailed:
    return ValidationFailed(errors=[field_error(field, code, message)])


def division_or_invalid(code: str, field: str = "division_code") -> Division:
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise invalid(field, "unknown_division", T("找不到该行政区划。", "Unknown division."))
    return division


def clean_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(
            errors=[field_error(field, "required", T("此项必填。", "This field is required."))]
        )
    if len(text) > max_length:
        raise ValidationFailed(errors=[field_error(field, "too_long", T("内容过长。", "Too long."))])
    return text


def check_datum(datum: str) -> str:
    if datum not in DATUMS:
        raise invalid(
            "datum", "invalid_choice", T("坐标系须为 wgs84 或 gcj02。", "The datum is wgs84 or gcj02.")
        )
    return datum


def local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
