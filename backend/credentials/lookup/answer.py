"""The answer to a lookup: a scanned token (or certificate number + name) → what the resident sees.

Order of work for a scanned token, cheapest first:
1. parse and verify the Ed25519 signature with keys cached in the process (``backend.core.keys``):
   a malformed, altered or forged token ends here, without a database query;
2. one SELECT (credential ⋈ practitioner ⋈ association, plus an EXISTS for an open blacklist
   entry) for the live status (``db``), so revocation, suspension and blacklisting show at once;
3. the status rules below turn the row into a ``LookupResult``. Logging it is the caller's
   (``responses`` queues the row through ``log.lookup_record``).

Statuses, most serious first: ``not_genuine``, ``revoked``, ``blacklisted``, ``suspended``,
``expired``, ``not_yet_valid``, ``valid``. A genuine token whose id no credential carries any
more (the badge was re-issued) reads ``revoked``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from backend.core.keys import atoken_verify, token_verify
from backend.core.masking import mask_name
from backend.core.signed_tokens import TokenError
from backend.core.signed_urls import signed_url
from backend.core.times import iso_local
from backend.credentials.lookup.db import FIELDS, aquery_token_row, query_token_row, queryset
from backend.credentials.models import Credential, Practitioner

STATUS_TEXT = {
    "valid": ("有效", "Valid"),
    "expired": ("已过期", "Expired"),
    "not_yet_valid": ("尚未生效", "Not yet valid"),
    "suspended": ("已暂停", "Suspended"),
    "revoked": ("已吊销", "Revoked"),
    "blacklisted": ("已列入黑名单", "Blacklisted"),
    "not_genuine": ("非本平台签发", "Not genuine"),
}


@dataclass
class LookupResult:
    status: str
    checked_at: datetime
    token_id: str = ""
    detail: str = ""  # why not genuine: malformed / bad_signature / unknown_key / revoked_key
    credential: dict[str, Any] | None = None
    credential_id: int | None = None
    association_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def genuine(self) -> bool:
        return self.status != "not_genuine"

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        zh, en = STATUS_TEXT[self.status]
        return {
            "status": self.status,
            "status_text": en if lang == "en" else zh,
            "genuine": self.genuine,
            "checked_at": iso_local(self.checked_at),
            "credential": self.credential,
        }


def _query(token_id_hex: str | None = None, certificate_no: str | None = None) -> list[dict[str, Any]]:
    """The credential rows for a token id or a certificate number (ORM; one query)."""
    qs = queryset()
    qs = (
        qs.filter(token_id=token_id_hex)
        if token_id_hex is not None
        else qs.filter(certificate_no=certificate_no)
    )
    return list(qs.values(*FIELDS)[:5])


def _photo_url(row: dict[str, Any]) -> str | None:
    """The photo as a short-lived signed URL; none when WeChat's image check found it risky."""
    name = row["practitioner__photo_thumb"]
    return signed_url(name) if name and not row.get("photo_hidden") else None


def _status_of(row: dict[str, Any], today: date, token_expired: bool) -> str:
    if (
        row["status"] == Credential.Status.REVOKED
        or row["practitioner__status"] != Practitioner.Status.ACTIVE
    ):
        return "revoked"
    if row["blacklisted"]:
        return "blacklisted"
    if row["status"] == Credential.Status.SUSPENDED:
        return "suspended"
    if token_expired or row["valid_until"] < today:
        return "expired"
    if row["valid_from"] > today:
        return "not_yet_valid"
    return "valid"


def _local_date(now: datetime) -> date:
    """The city's date at ``now`` (``TIME_ZONE``; a lookup never activates another zone)."""
    return now.astimezone(timezone.get_default_timezone()).date()


def _result(row: dict[str, Any] | None, *, now: datetime, token_id: str, token_expired: bool) -> LookupResult:
    if row is None:  # genuine, but the badge was re-issued: this QR no longer counts
        return LookupResult(status="revoked", checked_at=now, token_id=token_id, detail="superseded")
    return LookupResult(
        status=_status_of(row, _local_date(now), token_expired),
        checked_at=now,
        token_id=token_id,
        credential_id=row["id"],
        association_id=row["association_id"],
        credential={
            "masked_name": mask_name(row["practitioner__name"]),
            "employer": row["practitioner__employer"],
            "association": row["association__name"],
            "type": row["type"],
            "qualification": row["qualification"],
            "certificate_no": row["certificate_no"],
            "valid_from": row["valid_from"].isoformat(),
            "valid_until": row["valid_until"].isoformat(),
            "photo_url": _photo_url(row),
        },
    )


def _not_genuine(error: TokenError, now: datetime) -> LookupResult:
    return LookupResult(status="not_genuine", checked_at=now, detail=error.code)


def lookup_token(token: str) -> LookupResult:
    """The live status behind a scanned token (sync callers)."""
    now = timezone.now()
    try:
        payload = token_verify(purpose="credential", token=token, check_expiry=False)
    except TokenError as exc:
        return _not_genuine(exc, now)
    expired = payload.is_expired(on=_local_date(now))
    token_id = payload.token_id.hex()
    return _result(query_token_row(token_id), now=now, token_id=token_id, token_expired=expired)


async def alookup_token(token: str) -> LookupResult:
    """``lookup_token`` for async views: a forged token never leaves the event loop."""
    now = timezone.now()
    try:
        payload = await atoken_verify(purpose="credential", token=token, check_expiry=False)
    except TokenError as exc:
        return _not_genuine(exc, now)
    expired = payload.is_expired(on=_local_date(now))
    token_id = payload.token_id.hex()
    return _result(await aquery_token_row(token_id), now=now, token_id=token_id, token_expired=expired)


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return bool(a) and norm(a) == norm(b)


def lookup_manual(*, certificate_no: str, name: str) -> LookupResult | None:
    """Certificate number **and** name; ``None`` both when nothing has the number and when the
    name does not match, so the answer cannot be used to learn which numbers exist."""
    now = timezone.now()
    number = unicodedata.normalize("NFKC", certificate_no or "").strip().upper()
    if not number or not (name or "").strip():
        return None
    for row in _query(certificate_no=number):
        if _same_name(row["practitioner__name"], name):
            return _result(row, now=now, token_id="", token_expired=False)
    return None
