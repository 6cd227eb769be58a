"""Schemas of the credentials API. Names are unique across the whole API (one OpenAPI component
each): generic words carry the domain (``CredentialReasonIn``, ``ScanStatsOut``…).

Outputs read the objects the services and selectors return: a practitioner as association
admins see it is prepared by ``selectors.practitioner_masked``; the schemas only read it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from api.schemas import Schema
from backend.core.signed_urls import signed_url
from backend.credentials import badges
from backend.credentials.models import BlacklistEntry, Credential, Practitioner


def _storage_url(name: str) -> str | None:
    """A private image as a short-lived signed URL (the mini-program's ``<image>`` sends no headers)."""
    return signed_url(name) if name else None


class CredentialsCursorPage(Schema):
    next_cursor: str | None = None


# --- associations ------------------------------------------------------------------------------


class AssociationIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    short_name: str = Field("", max_length=30)
    uscc: str = Field("", max_length=30)
    contact_phone: str = Field("", max_length=20)


class AssociationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    short_name: str | None = Field(None, max_length=30)
    uscc: str | None = Field(None, max_length=30)
    contact_phone: str | None = Field(None, max_length=20)


class AssociationOut(Schema):
    id: int
    name: str
    short_name: str
    uscc: str
    contact_phone: str


class ScanStatsOut(Schema):
    days: int
    since: str
    total: int
    by_result: dict[str, int]
    by_channel: dict[str, int]
    by_client: dict[str, int]
    per_day: list[dict[str, Any]]
    top_credentials: list[dict[str, Any]]


# --- practitioners -----------------------------------------------------------------------------


class PractitionerIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30)
    mobile: str = Field("", max_length=30)
    employer: str = Field("", max_length=100)


class PractitionerPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=50)
    id_number: str | None = Field(None, min_length=1, max_length=30)
    mobile: str | None = Field(None, max_length=30)
    employer: str | None = Field(None, max_length=100)
    status: Literal["active", "left"] | None = None


class PractitionerOut(Schema):
    # Reads a practitioner prepared by ``selectors.practitioner_masked``.
    id: int
    association_id: int
    name: str
    name_masked: str
    id_number_masked: str
    mobile_masked: str
    employer: str
    status: str
    blacklisted: bool
    photo_url: str | None
    photo_thumb_url: str | None
    photo_hidden: bool = Field(
        description="WeChat's image check found the photo risky: the public lookup and the badge "
        "leave it out; upload another."
    )

    @staticmethod
    def resolve_photo_url(obj: Practitioner) -> str | None:
        return _storage_url(obj.photo)

    @staticmethod
    def resolve_photo_thumb_url(obj: Practitioner) -> str | None:
        return _storage_url(obj.photo_thumb)


class PractitionerPage(CredentialsCursorPage):
    items: list[PractitionerOut]


class PractitionerIdNumberOut(Schema):
    id_number: str


# --- credentials -------------------------------------------------------------------------------


class CredentialIn(Schema):
    practitioner_id: int
    type: str = Field(min_length=1, max_length=50)
    certificate_no: str = Field(min_length=1, max_length=50)
    qualification: str = Field(min_length=1, max_length=100)
    valid_from: date
    valid_until: date


class CredentialOut(Schema):
    id: int
    association_id: int
    practitioner_id: int
    practitioner_name: str
    type: str
    certificate_no: str
    qualification: str
    valid_from: date
    valid_until: date
    status: str
    reason: str
    status_changed_at: Any = None
    verify_url: str
    token_issued: date
    qr_signed_url: str = Field(
        description="The badge QR (PNG), signed: loads without a token for a few minutes."
    )
    badge_signed_url: str = Field(description="The printable badge (PNG), signed like `qr_signed_url`.")

    @staticmethod
    def resolve_practitioner_name(obj: Credential) -> str:
        return obj.practitioner.name

    @staticmethod
    def resolve_verify_url(obj: Credential) -> str:
        return badges.credential_url(obj)

    @staticmethod
    def resolve_qr_signed_url(obj: Credential) -> str:
        return badges.credential_qr_url(obj)

    @staticmethod
    def resolve_badge_signed_url(obj: Credential) -> str:
        return badges.credential_badge_url(obj)


class CredentialPage(CredentialsCursorPage):
    items: list[CredentialOut]


class CredentialReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class CredentialRenewIn(Schema):
    valid_until: date


class CredentialImportOut(Schema):
    rows: int
    practitioners_created: int
    credentials_created: int
    dry_run: bool


# --- credit records and blacklist --------------------------------------------------------------


class CreditRecordIn(Schema):
    date: date
    kind: Literal["commendation", "training", "complaint", "violation", "other"]
    text: str = Field(min_length=1, max_length=2000)


class CreditRecordOut(Schema):
    id: int
    practitioner_id: int
    date: date
    kind: str
    text: str


class CreditRecordPage(CredentialsCursorPage):
    items: list[CreditRecordOut]


class BlacklistIn(Schema):
    listed_on: date
    reason: str = Field(min_length=1, max_length=2000)
    basis: str = Field(min_length=1, max_length=200)


class BlacklistOut(Schema):
    id: int
    practitioner_id: int
    practitioner_name: str
    listed_on: date
    reason: str
    basis: str
    lifted_at: Any = None
    lift_reason: str

    @staticmethod
    def resolve_practitioner_name(obj: BlacklistEntry) -> str:
        return obj.practitioner.name


class BlacklistPage(CredentialsCursorPage):
    items: list[BlacklistOut]


# --- the public lookup -------------------------------------------------------------------------


class PublicCredentialOut(Schema):
    masked_name: str
    employer: str
    association: str
    type: str
    qualification: str
    certificate_no: str
    valid_from: date
    valid_until: date
    photo_url: str | None


class CredentialLookupOut(Schema):
    status: Literal["valid", "expired", "not_yet_valid", "suspended", "revoked", "blacklisted", "not_genuine"]
    status_text: str
    genuine: bool
    checked_at: str
    credential: PublicCredentialOut | None


class CredentialManualLookupIn(Schema):
    certificate_no: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=50)


class JwkOut(Schema):
    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str
    purpose: str
    status: str


class JwksOut(Schema):
    keys: list[JwkOut]
