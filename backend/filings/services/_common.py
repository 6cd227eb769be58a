"""What the services of the filings domain share: the filing state machine, the history row
every change writes, and small formatting helpers.

The state machine (``TRANSITIONS``) is enforced by a conditional UPDATE on status and version:
of two reviewers deciding at once exactly one row update succeeds; the other gets 409
(``invalid_transition`` when the filing has moved on, ``filing_changed`` when it was edited).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import F
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings.errors import FilingChanged
from backend.filings.models import Filing, FilingEvent

S = Filing.Status
EDITABLE = (S.DRAFT, S.CORRECTION_REQUESTED)

# action -> {from status: to status}; submit from correction_requested goes to "resubmitted"
# when the clock had started (accepted before), else back to "submitted".
TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {S.DRAFT: S.SUBMITTED, S.CORRECTION_REQUESTED: S.RESUBMITTED},
    "accept": {S.SUBMITTED: S.ACCEPTED},
    "request_correction": {
        S.SUBMITTED: S.CORRECTION_REQUESTED,
        S.ACCEPTED: S.CORRECTION_REQUESTED,
        S.RESUBMITTED: S.CORRECTION_REQUESTED,
    },
    "approve": {S.ACCEPTED: S.APPROVED, S.RESUBMITTED: S.APPROVED},
    "reject": {S.SUBMITTED: S.REJECTED, S.ACCEPTED: S.REJECTED, S.RESUBMITTED: S.REJECTED},
    "withdraw": {
        S.DRAFT: S.WITHDRAWN,
        S.SUBMITTED: S.WITHDRAWN,
        S.ACCEPTED: S.WITHDRAWN,
        S.CORRECTION_REQUESTED: S.WITHDRAWN,
        S.RESUBMITTED: S.WITHDRAWN,
    },
}

FILING_FIELDS = (
    "name",
    "category",
    "address",
    "activity_area",
    "purpose",
    "guiding_unit",
    "rep_name",
    "party_members",
    "party_org",
    "party_in_charter",
    "statement",
)
# A group carries what its filing said, but the representative's statement (it belongs to the filing).
GROUP_FIELDS = tuple(name for name in FILING_FIELDS if name != "statement")


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def reasons_text(reasons: list[dict[str, str]]) -> str:
    return "；".join(r["reason"] for r in reasons)


def params(filing: Filing, **extra: Any) -> dict[str, Any]:
    """The parameters of a notification about ``filing``."""
    return {"group_name": filing.name, "kind_label": filing.get_kind_display(), **extra}


def record(
    *,
    filing: Filing,
    actor: User | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    reasons: list[dict[str, str]] | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """The history row the parties see, and the audit row, for one change of a filing."""
    FilingEvent.objects.create(
        filing=filing,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reasons=reasons or [],
        note=note,
    )
    audit_record(
        actor=actor,
        action=f"filing.{action}",
        target=filing,
        data={"from": from_status, "to": to_status, "reasons": reasons or [], **(data or {})},
        reason=reasons_text(reasons or []) or note,
    )


def bump(
    *, filing: Filing, allowed: tuple[str, ...], action: str, fields: dict[str, Any] | None = None
) -> None:
    """Change an editable filing only if it is still in an allowed status (conditional UPDATE)."""
    updated = Filing.objects.filter(pk=filing.pk, status__in=allowed).update(
        version=F("version") + 1, updated_at=timezone.now(), **(fields or {})
    )
    if not updated:
        current = Filing.objects.values_list("status", flat=True).get(pk=filing.pk)
        raise InvalidTransition(action=action, status=current)
    filing.refresh_from_db()


def transition(
    *,
    filing: Filing,
    action: str,
    actor: User | None,
    expected_version: int | None = None,
    target: str | None = None,
    fields: dict[str, Any] | None = None,
    reasons: list[dict[str, str]] | None = None,
    note: str = "",
) -> str:
    """Move ``filing`` along the state machine; returns the status it came from."""
    allowed = TRANSITIONS[action]
    current = filing.status
    if current not in allowed:
        raise InvalidTransition(action=action, status=current)
    target = target or allowed[current]
    version = filing.version if expected_version is None else expected_version
    updated = Filing.objects.filter(pk=filing.pk, status=current, version=version).update(
        status=target, version=F("version") + 1, updated_at=timezone.now(), **(fields or {})
    )
    if not updated:
        fresh = Filing.objects.values_list("status", "version").get(pk=filing.pk)
        if fresh[0] not in allowed:
            raise InvalidTransition(action=action, status=fresh[0])
        raise FilingChanged(version=fresh[1])
    filing.refresh_from_db()
    record(
        filing=filing,
        actor=actor,
        action=action,
        from_status=current,
        to_status=target,
        reasons=reasons,
        note=note,
    )
    return current


def check_reasons(reasons: list[dict[str, str]] | None, *, per_field: bool) -> list[dict[str, str]]:
    """Written reasons, blank ones dropped; ``per_field``: each must name the field to correct."""
    cleaned = []
    for item in reasons or []:
        reason = str(item.get("reason") or "").strip()
        field = str(item.get("field") or "").strip()
        if reason and (field or not per_field):
            cleaned.append({"field": field, "reason": reason})
    if not cleaned:
        message = (
            T("请逐项写明需要补正的内容。", "Give a reason for each field to correct.")
            if per_field
            else T("请写明理由。", "Give the reasons.")
        )
        raise ValidationFailed(errors=[field_error("reasons", "reasons_required", message)])
    return cleaned
