"""Patrol policies: the minimums that make a patrol valid, per division (inherited downwards)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.rivers.models import PatrolPolicy
from backend.rivers.services._common import division_or_invalid


def patrol_policy_set(
    *, actor: Any, division_code: str, min_duration_s: int, min_distance_m: int
) -> PatrolPolicy:
    division = division_or_invalid(division_code)
    errors = []
    if not 0 <= min_duration_s <= 24 * 3600:
        errors.append(
            field_error("min_duration_s", "out_of_range", T("须在 0 至 86400 秒之间。", "0 to 86400 s."))
        )
    if not 0 <= min_distance_m <= 100_000:
        errors.append(
            field_error("min_distance_m", "out_of_range", T("须在 0 至 100000 米之间。", "0 to 100000 m."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        policy, _ = PatrolPolicy.objects.update_or_create(
            division=division,
            defaults={
                "min_duration_s": min_duration_s,
                "min_distance_m": min_distance_m,
                "updated_by": actor,
            },
        )
        audit_record(
            actor=actor,
            action="patrol_policy.set",
            target=policy,
            data={
                "division": division.code,
                "min_duration_s": min_duration_s,
                "min_distance_m": min_distance_m,
            },
        )
    return policy
