"""Registration: ``/volunteer/profile``."""

from __future__ import annotations

from ninja import Router

from api.schemas import ERRORS
from api.volunteers.schemas import VolunteerProfileIn, VolunteerProfileOut
from api.wechat.content import CONTENT_CHECKED
from backend.volunteers import selectors, services
from backend.volunteers.models import VolunteerProfile
from backend.volunteers.permissions import profile_access

router = Router()


@router.put(
    "/volunteer/profile", response={200: VolunteerProfileOut, **ERRORS}, openapi_extra=CONTENT_CHECKED
)
def profile_put(request, payload: VolunteerProfileIn):
    """Register as a volunteer or update the profile; the ID number never comes back unmasked."""
    profile = services.volunteer_profile_save(
        user=request.auth,
        real_name=payload.real_name,
        id_number=payload.id_number,
        mobile=payload.mobile,
        division_code=payload.division_code,
        skills=payload.skills,
        service_categories=payload.service_categories,
        available_times=payload.available_times,
        consents=[c.dict() for c in payload.consents],
        guardian=payload.guardian.dict() if payload.guardian else None,
    )
    return _shown(profile_access(user=profile.user))


@router.get("/volunteer/profile", response={200: VolunteerProfileOut, **ERRORS})
def profile_get(request):
    return _shown(profile_access(user=request.auth))


def _shown(profile: VolunteerProfile) -> VolunteerProfile:
    return selectors.volunteer_profile_shown(profile=profile)
