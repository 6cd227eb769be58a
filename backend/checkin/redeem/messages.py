"""The redeem message a scanner sends and the result it gets back (websocket frame, HTTP
fallback item or offline queue item alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from backend.checkin.errors import InvalidRedeem
from backend.checkin.models import Checkin, Kind
from backend.core.errors import field_error
from backend.core.i18n import T

NONCE_MAX = 64
DEVICE_MAX = 64


@dataclass(frozen=True)
class Redeem:
    """One parsed redeem message (websocket frame, HTTP fallback item or offline queue item)."""

    secret: str  # "" when the scanner names the pass by id instead
    nonce: str
    kind: str
    scanned_at: datetime
    list_id: int | None = None
    # A pass found by the door search (``GET /events/{id}/passes?search=``), redeemed by its id.
    pass_id: int | None = None
    device_id: int | None = None  # a registered device (``POST /events/{id}/devices``)
    forced: bool = False  # admitted offline by the device: recorded as it happened


@dataclass
class RedeemResult:
    row: Checkin
    replayed: bool = False

    def message(self) -> dict[str, Any]:
        row = self.row
        pass_obj = row.pass_obj
        out: dict[str, Any] = {
            "type": "result",
            "nonce": row.nonce,
            "status": row.status,
            "kind": row.kind,
            "pass": None if pass_obj is None else {"name": pass_obj.masked_name, "kind": pass_obj.kind},
            "checked_in_at": _iso(row.entry_at),
            "checked_in_gate": row.entry_gate or None,
            "gate": row.gate or None,
            "list": row.list_id,
            "seq": row.seq,
            "late": row.late,
        }
        if row.status == Checkin.Status.ERROR:
            out["reason"] = row.reason
        if row.forced:
            out["forced"] = True
        if row.conflict:
            out["conflict"] = row.conflict
        if self.replayed:
            out["replayed"] = True
        return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def redeem_parse(content: dict[str, Any]) -> Redeem:
    """Validate one redeem message; raises ``InvalidRedeem`` (422, ``invalid_message``) with field errors."""
    errors = []
    secret = content.get("secret")
    pass_id = content.get("pass_id")
    nonce = content.get("nonce")
    kind = content.get("kind", Kind.ENTRY)
    list_id = content.get("list")
    device_id = content.get("device_id")
    forced = content.get("forced", False)
    scanned_raw = content.get("scanned_at")
    errors.extend(_secret_errors(secret, pass_id))
    if pass_id is not None:
        secret = ""
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= NONCE_MAX:
        errors.append(
            field_error("nonce", "invalid", T("须为 8 至 64 个字符。", "Must be 8 to 64 characters."))
        )
    if kind not in (Kind.ENTRY, Kind.EXIT):
        errors.append(field_error("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice.")))
    if list_id is not None and not _positive_int(list_id):
        errors.append(field_error("list", "invalid", T("格式不正确。", "Invalid value.")))
    if device_id is not None and not _positive_int(device_id):
        errors.append(field_error("device_id", "invalid", T("格式不正确。", "Invalid value.")))
    if not isinstance(forced, bool):
        errors.append(field_error("forced", "invalid", T("须为 true 或 false。", "Must be true or false.")))
    scanned_at = _parse_time(scanned_raw) if scanned_raw is not None else timezone.now()
    if scanned_at is None:
        errors.append(
            field_error("scanned_at", "invalid", T("须为 ISO 8601 时间。", "Must be an ISO 8601 time."))
        )
    if errors:
        raise InvalidRedeem(
            errors=errors, nonce=nonce if isinstance(nonce, str) and len(nonce) <= NONCE_MAX else None
        )
    assert isinstance(secret, str) and isinstance(nonce, str) and scanned_at is not None
    return Redeem(
        secret=secret,
        nonce=nonce,
        kind=kind,
        scanned_at=scanned_at,
        list_id=list_id,
        device_id=device_id,
        forced=forced,
        pass_id=pass_id,
    )


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _secret_errors(secret: Any, pass_id: Any) -> list[dict[str, Any]]:
    """A redeem names its pass by ``secret`` (the QR) or by ``pass_id`` (the door search), once."""
    if pass_id is None:
        if not isinstance(secret, str) or not 1 <= len(secret) <= 512:
            return [field_error("secret", "invalid", T("格式不正确。", "Invalid value."))]
        return []
    errors = []
    if not _positive_int(pass_id):
        errors.append(field_error("pass_id", "invalid", T("格式不正确。", "Invalid value.")))
    if secret is not None:
        errors.append(
            field_error(
                "secret",
                "not_with_pass_id",
                T("凭证与凭证编号只能二选一。", "Send a secret or a pass_id, not both."),
            )
        )
    return errors


def scanner_device(*, sent: Any, session: Any) -> str:
    """The device a scan is recorded from: the one the scanner named, else its sign-in session."""
    if isinstance(sent, str) and sent:
        return sent[:DEVICE_MAX]
    return f"session:{session.pk}" if session is not None else ""
