"""Schemas of sign-in, tokens and the current user."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from backend.accounts.selectors import user_grants
from backend.core.masking import mask_phone


class FirebaseIn(Schema):
    id_token: str = Field(min_length=1, max_length=8192)


class DevLoginIn(Schema):
    phone: str = Field(min_length=1, max_length=32)


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
