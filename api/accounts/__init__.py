"""Sign-in, token refresh, logout and the current user."""

from __future__ import annotations

from ninja import Router

from api.accounts import grants, rights
from api.accounts.schemas import DevLoginIn, FirebaseIn, RefreshIn, StaffCodeOut, TokenOut, UserOut
from api.auth import bearer
from api.schemas import ERRORS, OkOut, errors
from api.throttles import signin_throttle
from backend.accounts import services
from backend.core.links import public_url

router = Router(tags=["auth"])
me_router = Router(tags=["me"])
# Mounted at the API's root: /grants.
staff_router = Router()
staff_router.add_router("", grants.router)


@router.post("/firebase", response={200: TokenOut, **errors(503)}, auth=None, throttle=[signin_throttle()])
def signin_firebase(request, payload: FirebaseIn):
    """Exchange a Firebase phone-number ID token for Linli access and refresh tokens."""
    return services.signin_firebase(id_token=payload.id_token)


@router.post("/dev-login", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()])
def signin_dev(request, payload: DevLoginIn):
    """Development only: sign in by phone number. Refused (404) when LINLI_ENV=prod."""
    return services.signin_dev(phone=payload.phone)


@router.post("/refresh", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()])
def refresh(request, payload: RefreshIn):
    """Spend a refresh token for a new pair (rotation). A spent token used again ends the session."""
    return services.session_refresh(refresh_token=payload.refresh_token)


@router.post("/logout", response={200: OkOut, **ERRORS}, auth=bearer)
def logout(request):
    """End this device's session: its refresh and access tokens stop working at once."""
    services.session_logout(session=request.auth_session)
    return {"ok": True}


@me_router.get("", response={200: UserOut, **ERRORS}, auth=bearer)
def me(request):
    """The signed-in user and their roles."""
    return request.auth


@me_router.post("/staff-sign-in-code", response={200: StaffCodeOut, **ERRORS}, auth=bearer)
def staff_sign_in_code(request):
    """A one-time code (6 digits, 5 minutes, one use) for signing in to the Django admin at
    ``admin_url`` with this account's phone number: staff sign in without passwords. Earlier
    codes stop working. 403 ``not_staff`` for accounts without a staff role."""
    code, ttl = services.staff_code_issue(user=request.auth)
    return {"code": code, "expires_in": ttl, "admin_url": public_url("/admin/login/")}


me_router.add_router("", rights.router)
router.add_router("", rights.auth_router)
