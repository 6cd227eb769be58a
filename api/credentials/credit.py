"""A practitioner's standing: credit records, and the association's blacklist."""

from __future__ import annotations

from ninja import Query, Router, Status

from api.auth import AuthedRequest
from api.credentials.schemas import (
    BlacklistIn,
    BlacklistOut,
    BlacklistPage,
    CredentialReasonIn,
    CreditRecordIn,
    CreditRecordOut,
    CreditRecordPage,
)
from api.schemas import ERRORS, cursor_param
from backend.credentials import selectors, services
from backend.credentials.models import BlacklistEntry, CreditRecord
from backend.credentials.permissions import association_access, blacklist_entry_access, practitioner_access
from backend.credentials.selectors import CursorPage

router = Router()


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}/credit-records",
    response={200: CreditRecordPage, **ERRORS},
)
def credit_record_list(
    request: AuthedRequest,
    association_id: int,
    practitioner_id: int,
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
) -> CursorPage[CreditRecord]:
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    return selectors.credit_record_page(practitioner=practitioner, cursor=cursor, limit=limit)


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/credit-records",
    response={201: CreditRecordOut, **ERRORS},
)
def credit_record_add(
    request: AuthedRequest, association_id: int, practitioner_id: int, payload: CreditRecordIn
) -> Status:
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    record = services.credit_record_add(actor=request.auth, practitioner=practitioner, **payload.dict())
    return Status(201, record)


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/blacklist",
    response={201: BlacklistOut, **ERRORS},
)
def practitioner_blacklist(
    request: AuthedRequest, association_id: int, practitioner_id: int, payload: BlacklistIn
) -> Status:
    """Blacklist a practitioner: all their badges read ``blacklisted`` from the next scan on."""
    practitioner = practitioner_access(
        user=request.auth, association_id=association_id, practitioner_id=practitioner_id
    )
    entry = services.practitioner_blacklist(actor=request.auth, practitioner=practitioner, **payload.dict())
    return Status(201, entry)


@router.get("/associations/{association_id}/blacklist", response={200: BlacklistPage, **ERRORS})
def blacklist_list(
    request: AuthedRequest,
    association_id: int,
    include_lifted: bool = False,
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
) -> CursorPage[BlacklistEntry]:
    association = association_access(user=request.auth, association_id=association_id)
    return selectors.blacklist_page(
        association=association, include_lifted=include_lifted, cursor=cursor, limit=limit
    )


@router.post(
    "/associations/{association_id}/blacklist/{entry_id}/lift", response={200: BlacklistOut, **ERRORS}
)
def blacklist_lift(
    request: AuthedRequest, association_id: int, entry_id: int, payload: CredentialReasonIn
) -> BlacklistEntry:
    entry = blacklist_entry_access(user=request.auth, association_id=association_id, entry_id=entry_id)
    return services.blacklist_lift(actor=request.auth, entry=entry, reason=payload.reason)
