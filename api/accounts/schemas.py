"""Schemas of sign-in, tokens and the current user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from api.schemas import MOBILE_PATTERN, Schema
from backend.accounts.selectors import user_grants
from backend.core.i18n import request_lang
from backend.core.masking import mask_phone


class FirebaseIn(Schema):
    id_token: str = Field(min_length=1, max_length=8192)


class DevLoginIn(Schema):
    phone: str = Field(min_length=1, max_length=32, pattern=MOBILE_PATTERN)


class RefreshIn(Schema):
    refresh_token: str = Field(min_length=1, max_length=200)


class GrantOut(Schema):
    role: str
    scope_type: str
    scope_id: str


class UserOut(Schema):
    id: int
    phone: str
    phone_masked: str
    display_name: str
    roles: list[GrantOut]

    @staticmethod
    def resolve_phone_masked(user: Any) -> str:
        return mask_phone(user.phone)

    @staticmethod
    def resolve_roles(user: Any) -> list[Any]:
        return list(user_grants(user))


class TokenOut(Schema):
    """A token pair (``backend.accounts.services.TokenPair``) and its user."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    user: UserOut


# --- grants ------------------------------------------------------------------------------------------


class GrantPersonOut(Schema):
    """Who holds or gave a role: masked phone and display name."""

    id: int
    phone_masked: str
    display_name: str

    @staticmethod
    def resolve_phone_masked(user: Any) -> str:
        return mask_phone(user.phone)


class RoleGrantIn(Schema):
    """A role to grant: to ``user_id`` or to the account of ``phone`` (one of them)."""

    user_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    phone: str | None = Field(default=None, min_length=11, max_length=20, pattern=MOBILE_PATTERN)
    role: str = Field(min_length=1, max_length=30)
    scope_type: str = Field(default="", max_length=20)
    scope_id: str = Field(default="", max_length=40)
    valid_until: AwareDatetime | None = None


class RoleGrantOut(Schema):
    id: int
    user: GrantPersonOut
    role: str
    scope_type: str
    scope_id: str
    granted_by: GrantPersonOut | None
    created_at: datetime
    valid_until: datetime | None


class RoleGrantPage(Schema):
    items: list[RoleGrantOut]
    next_cursor: str | None


class StaffCodeOut(Schema):
    """A one-time code for the Django admin's login page (with the phone number)."""

    code: str
    expires_in: int
    admin_url: str


# --- personal data rights ------------------------------------------------------------------------------


class PersonalDataSectionOut(Schema):
    """One part of the copy: a domain's data about the person, why it is held, what a
    cancellation keeps (texts in the request's language)."""

    key: str
    title: str
    purpose: str
    kept_after_cancellation: str | None
    data: Any

    @staticmethod
    def resolve_title(obj: Any, context: Any) -> str:
        return obj.title.get(request_lang(context["request"]))

    @staticmethod
    def resolve_purpose(obj: Any, context: Any) -> str:
        return obj.purpose.get(request_lang(context["request"]))

    @staticmethod
    def resolve_kept_after_cancellation(obj: Any, context: Any) -> str | None:
        kept = obj.kept_after_cancellation
        return kept.get(request_lang(context["request"])) if kept else None


class PersonalDataOut(Schema):
    generated_at: str
    user_id: int
    sections: list[PersonalDataSectionOut]


class CancellationOut(Schema):
    requested_at: datetime
    effective_at: datetime


class KeepAccountIn(Schema):
    keep_token: str = Field(min_length=1, max_length=400)
