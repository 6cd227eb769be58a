"""Correcting a registered ID number: the volunteer asks, staff who checked the card confirm."""

from __future__ import annotations

from typing import Literal

from ninja import Query, Router, Status

from api.schemas import ERRORS
from api.volunteers.schemas import (
    VolunteerIdCorrectionConfirmIn,
    VolunteerIdCorrectionIn,
    VolunteerIdCorrectionOut,
    VolunteerIdCorrectionPage,
    VolunteerIdCorrectionRejectIn,
)
from backend.volunteers import selectors, services
from backend.volunteers.permissions import id_correction_access, profile_access

router = Router()


@router.post("/volunteer/profile/id-corrections", response={201: VolunteerIdCorrectionOut, **ERRORS})
def id_correction_request(request, payload: VolunteerIdCorrectionIn):
    """Ask for a new ID number (the registered one stays until staff confirm). The number passes
    the registration checks (422 ``validation_error``/``too_young``/``guardian_consent_required``,
    409 ``id_number_taken``); one pending request at a time (409 ``id_correction_pending``)."""
    profile = profile_access(user=request.auth)
    correction = services.id_correction_request(
        profile=profile, id_number=payload.id_number, reason=payload.reason
    )
    return Status(201, selectors.id_correction_shown(correction))


@router.get("/volunteer/profile/id-corrections", response={200: list[VolunteerIdCorrectionOut], **ERRORS})
def id_correction_history(request):
    """The volunteer's requests, newest first, numbers masked."""
    return selectors.my_id_corrections(profile=profile_access(user=request.auth))


@router.get("/volunteer/id-corrections", response={200: VolunteerIdCorrectionPage, **ERRORS})
def id_correction_queue(
    request,
    status: Literal["pending", "confirmed", "rejected"] | None = "pending",
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=100),
):
    """Corrections the caller may decide on: platform admins all; coordinators those of volunteers
    who signed up with or served their organisations. Empty for anyone else."""
    return selectors.id_corrections_to_decide(user=request.auth, status=status, cursor=cursor, limit=limit)


@router.post(
    "/volunteer/id-corrections/{correction_id}/confirm", response={200: VolunteerIdCorrectionOut, **ERRORS}
)
def id_correction_confirm(request, correction_id: int, payload: VolunteerIdCorrectionConfirmIn):
    """Confirm after checking the person's card: ``id_number`` typed from the card must be the
    number requested (409 ``id_number_mismatch``). The profile takes the number, birth date and
    gender; hours and records stay with the person."""
    correction = id_correction_access(user=request.auth, correction_id=correction_id)
    done = services.id_correction_confirm(correction=correction, by=request.auth, id_number=payload.id_number)
    return selectors.id_correction_shown(done)


@router.post(
    "/volunteer/id-corrections/{correction_id}/reject", response={200: VolunteerIdCorrectionOut, **ERRORS}
)
def id_correction_reject(request, correction_id: int, payload: VolunteerIdCorrectionRejectIn):
    correction = id_correction_access(user=request.auth, correction_id=correction_id)
    done = services.id_correction_reject(correction=correction, by=request.auth, reason=payload.reason)
    return selectors.id_correction_shown(done)
