"""Practitioners of an association, for its admins: register, edit, the audited full ID number,
the badge photo. Names in full, ID and mobile numbers masked (``selectors.practitioner_masked``)."""

from __future__ import annotations

from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from api.auth import AuthedRequest
from api.credentials.schemas import (
    PractitionerIdNumberOut,
    PractitionerIn,
    PractitionerOut,
    PractitionerPage,
    PractitionerPatch,
)
from api.schemas import ERRORS, cursor_param
from backend.credentials import selectors, services
from backend.credentials.models import Practitioner
from backend.credentials.permissions import Action, association_access, practitioner_access
from backend.credentials.selectors import CursorPage

router = Router()


def _shown(request: AuthedRequest, association_id: int, practitioner_id: int) -> Practitioner:
    """The practitioner as the admin sees it, read again after a change."""
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    return selectors.practitioner_masked(practitioner=practitioner)


@router.get("/associations/{association_id}/practitioners", response={200: PractitionerPage, **ERRORS})
def practitioner_list(
    request: AuthedRequest,
    association_id: int,
    q: str = "",
    status: str = "",
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
) -> CursorPage[Practitioner]:
    association = association_access(user=request.auth, association_id=association_id)
    return selectors.practitioner_page(
        association=association, q=q.strip(), status=status, cursor=cursor, limit=limit
    )


@router.post("/associations/{association_id}/practitioners", response={201: PractitionerOut, **ERRORS})
def practitioner_create(request: AuthedRequest, association_id: int, payload: PractitionerIn) -> Status:
    association = association_access(user=request.auth, association_id=association_id)
    practitioner = services.practitioner_create(actor=request.auth, association=association, **payload.dict())
    return Status(201, selectors.practitioner_masked(practitioner=practitioner))


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_detail(request: AuthedRequest, association_id: int, practitioner_id: int) -> Practitioner:
    return _shown(request, association_id, practitioner_id)


@router.patch(
    "/associations/{association_id}/practitioners/{practitioner_id}",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_update(
    request: AuthedRequest, association_id: int, practitioner_id: int, payload: PractitionerPatch
) -> Practitioner:
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    services.practitioner_update(
        actor=request.auth, practitioner=practitioner, **payload.dict(exclude_unset=True)
    )
    return _shown(request, association_id, practitioner_id)


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}/id-number",
    response={200: PractitionerIdNumberOut, **ERRORS},
)
def practitioner_id_number(
    request: AuthedRequest, association_id: int, practitioner_id: int
) -> PractitionerIdNumberOut:
    """The full ID number, for an admin who needs it; every read is audited."""
    practitioner = practitioner_access(
        user=request.auth,
        association_id=association_id,
        practitioner_id=practitioner_id,
        action=Action.PRACTITIONER_READ_ID_NUMBER,
    )
    number = services.practitioner_id_number_read(actor=request.auth, practitioner=practitioner)
    return PractitionerIdNumberOut(id_number=number)


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/photo",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_photo(
    request: AuthedRequest, association_id: int, practitioner_id: int, file: UploadedFile = File(...)
) -> Practitioner:
    """Multipart upload of the badge photo: type from the bytes, EXIF (GPS!) stripped, thumbnail."""
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    services.practitioner_photo_upload(actor=request.auth, practitioner=practitioner, upload=file)
    return _shown(request, association_id, practitioner_id)
