"""The volunteer's consents: which are given, and withdrawing one (``DELETE``)."""

from __future__ import annotations

from ninja import Router

from api.schemas import ERRORS
from api.volunteers.schemas import VolunteerConsentOut
from backend.volunteers import services
from backend.volunteers.permissions import profile_access

router = Router()


@router.get("/me/consents", response={200: list[VolunteerConsentOut], **ERRORS})
def consent_list(request):
    """Every consent the volunteer gave (terms, privacy, disclosure, guardian), with when it was
    given and, if so, withdrawn. 404 for someone not registered as a volunteer."""
    profile = profile_access(user=request.auth)
    return list(profile.consents.order_by("kind", "-accepted_at"))


@router.delete("/me/consents/{kind}", response={200: list[VolunteerConsentOut], **ERRORS})
def consent_withdraw(request, kind: str):
    """Withdraw a consent. ``terms``, ``privacy`` or ``guardian``: the registration lapses —
    sign-ups for shifts ahead are cancelled at once and new ones are refused (409
    ``requirements_not_met``, requirement ``consent``) until the current version is accepted
    again through ``PUT /volunteer/profile``; service records made stay. 404 when no standing
    consent of that kind exists. Answers the withdrawn consents."""
    profile = profile_access(user=request.auth)
    return services.consent_withdraw(profile=profile, kind=kind, by=request.auth)
