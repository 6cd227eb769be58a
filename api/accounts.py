"""Sign-in, token refresh, logout and the current user."""

from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from api.auth import bearer
from api.schemas import ERRORS, OkOut
from api.throttles import signin_throttle
from backend.accounts import services
from backend.accounts.models import User
from backend.accounts.selectors import user_grants
from backend.core.masking import mask_phone

router = Router(tags=["auth"])
me_router = Router(tags=["me"])


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


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    user: UserOut


def user_out(user: User) -> dict:
    return {
        "id": user.pk,
        "phone": user.phone,
        "phone_masked": mask_phone(user.phone),
        "display_name": user.display_name,
        "roles": [
            {"role": g.role, "scope_type": g.scope_type, "scope_id": g.scope_id} for g in user_grants(user)
        ],
    }


def token_out(pair: services.TokenPair) -> dict:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "user": user_out(pair.user),
    }


@router.post("/firebase", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()])
def signin_firebase(request, payload: FirebaseIn):
    """Exchange a Firebase phone-number ID token for Linli access and refresh tokens."""
    return token_out(services.signin_firebase(id_token=payload.id_token))


@router.post("/dev-login", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()])
def signin_dev(request, payload: DevLoginIn):
    """Development only: sign in by phone number. Refused (404) when LINLI_ENV=prod."""
    return token_out(services.signin_dev(phone=payload.phone))


@router.post("/refresh", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()])
def refresh(request, payload: RefreshIn):
    """Spend a refresh token for a new pair (rotation). A spent token used again ends the session."""
    return token_out(services.session_refresh(refresh_token=payload.refresh_token))


@router.post("/logout", response={200: OkOut, **ERRORS}, auth=bearer)
def logout(request):
    """End this device's session: its refresh and access tokens stop working at once."""
    services.session_logout(session=request.auth_session)
    return {"ok": True}


@me_router.get("", response={200: UserOut, **ERRORS}, auth=bearer)
def me(request):
    """The signed-in user and their roles."""
    return user_out(request.auth)
