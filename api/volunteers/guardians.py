"""Guardian consent for minors, given by the guardian signed in on their own phone:
``/me/guardian-requests…``. The guardian is whoever signed in with the mobile number the minor
gave as their guardian's (sign-in verifies the number)."""

from __future__ import annotations

from ninja import Router

from api.schemas import ERRORS
from api.volunteers.participation_schemas import GuardianConsentIn, GuardianRequestListOut, GuardianRequestOut
from backend.volunteers import selectors, services

router = Router()


@router.get("/me/guardian-requests", response={200: GuardianRequestListOut, **ERRORS})
def guardian_requests(request):
    """Minors who named my phone number as their guardian's, with the consent I gave (if any) and
    the current text version."""
    return {"items": selectors.guardian_requests(guardian=request.auth)}


@router.post("/me/guardian-requests/{profile_id}/consent", response={200: GuardianRequestOut, **ERRORS})
def guardian_consent_give(request, profile_id: int, payload: GuardianConsentIn):
    """I, the guardian, agree to the current text version (422 with ``current`` for another
    version). Who, when and which version are recorded; the minor may then sign up."""
    profile = services.guardian_profile(guardian=request.auth, profile_id=profile_id)
    services.guardian_consent_give(guardian=request.auth, profile=profile, version=payload.version)
    return _fresh(request, profile_id)


@router.delete("/me/guardian-requests/{profile_id}/consent", response={200: GuardianRequestOut, **ERRORS})
def guardian_consent_withdraw(request, profile_id: int):
    """I withdraw my consent: the minor's sign-ups ahead are cancelled and new ones refused."""
    profile = services.guardian_profile(guardian=request.auth, profile_id=profile_id)
    services.guardian_consent_withdraw(guardian=request.auth, profile=profile)
    return _fresh(request, profile_id)


def _fresh(request, profile_id: int):
    return next(p for p in selectors.guardian_requests(guardian=request.auth) if p.pk == profile_id)
