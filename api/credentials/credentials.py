"""Credentials of an association: list, issue, bulk import, and a credential's life (suspend,
revoke, reinstate, renew, re-issue the badge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from api.auth import AuthedRequest
from api.credentials.schemas import (
    CredentialImportOut,
    CredentialIn,
    CredentialOut,
    CredentialPage,
    CredentialReasonIn,
    CredentialRenewIn,
)
from api.schemas import ERRORS, cursor_param
from backend.core.errors import NotFound
from backend.credentials import selectors, services
from backend.credentials.models import Credential
from backend.credentials.permissions import association_access, credential_access
from backend.credentials.selectors import CursorPage

router = Router()


def _reloaded(credential_id: int) -> Credential:
    """The credential as lists show it (with its relations), after a change."""
    credential = selectors.credential_get(credential_id=credential_id)
    if credential is None:
        raise NotFound()
    return credential


@router.get("/associations/{association_id}/credentials", response={200: CredentialPage, **ERRORS})
def credential_list(
    request: AuthedRequest,
    association_id: int,
    status: str = "",
    practitioner_id: int | None = None,
    expiring_within: int | None = Query(None, ge=0, le=3650),
    cursor: str | None = cursor_param(),
    limit: int = Query(20, ge=1, le=100),
) -> CursorPage[Credential]:
    association = association_access(user=request.auth, association_id=association_id)
    return selectors.credential_page(
        association=association,
        status=status,
        practitioner_id=practitioner_id,
        expiring_within=expiring_within,
        cursor=cursor,
        limit=limit,
    )


@router.post("/associations/{association_id}/credentials", response={201: CredentialOut, **ERRORS})
def credential_issue(request: AuthedRequest, association_id: int, payload: CredentialIn) -> Status:
    """Register a credential and sign its badge token."""
    association = association_access(user=request.auth, association_id=association_id)
    credential = services.credential_issue_for(actor=request.auth, association=association, **payload.dict())
    return Status(201, _reloaded(credential.pk))


@router.post("/associations/{association_id}/import", response={200: CredentialImportOut, **ERRORS})
def credential_import(
    request: AuthedRequest, association_id: int, file: UploadedFile = File(...), dry_run: bool = False
) -> dict[str, Any]:
    """CSV or Excel (.xlsx), one row per credential: all rows are written or none, with a
    per-row error report (422 ``import_failed``, ``details.errors[].row``)."""
    association = association_access(user=request.auth, association_id=association_id)
    return services.credentials_import_upload(
        actor=request.auth, association=association, upload=file, dry_run=dry_run
    )


@router.get("/credentials/{credential_id}", response={200: CredentialOut, **ERRORS})
def credential_detail(request: AuthedRequest, credential_id: int) -> Credential:
    return credential_access(user=request.auth, credential_id=credential_id)


def _transition(
    request: AuthedRequest,
    credential_id: int,
    payload: CredentialReasonIn,
    service: Callable[..., Credential],
) -> Credential:
    credential = credential_access(user=request.auth, credential_id=credential_id)
    service(actor=request.auth, credential=credential, reason=payload.reason)
    return _reloaded(credential_id)


@router.post("/credentials/{credential_id}/suspend", response={200: CredentialOut, **ERRORS})
def credential_suspend(request: AuthedRequest, credential_id: int, payload: CredentialReasonIn) -> Credential:
    return _transition(request, credential_id, payload, services.credential_suspend)


@router.post("/credentials/{credential_id}/revoke", response={200: CredentialOut, **ERRORS})
def credential_revoke(request: AuthedRequest, credential_id: int, payload: CredentialReasonIn) -> Credential:
    return _transition(request, credential_id, payload, services.credential_revoke)


@router.post("/credentials/{credential_id}/reinstate", response={200: CredentialOut, **ERRORS})
def credential_reinstate(
    request: AuthedRequest, credential_id: int, payload: CredentialReasonIn
) -> Credential:
    return _transition(request, credential_id, payload, services.credential_reinstate)


@router.post("/credentials/{credential_id}/renew", response={200: CredentialOut, **ERRORS})
def credential_renew(request: AuthedRequest, credential_id: int, payload: CredentialRenewIn) -> Credential:
    """Change the validity; the badge gets a new token (reprint it)."""
    credential = credential_access(user=request.auth, credential_id=credential_id)
    services.credential_renew(actor=request.auth, credential=credential, valid_until=payload.valid_until)
    return _reloaded(credential_id)


@router.post("/credentials/{credential_id}/reissue-badge", response={200: CredentialOut, **ERRORS})
def credential_reissue_badge(
    request: AuthedRequest, credential_id: int, payload: CredentialReasonIn
) -> Credential:
    """A lost or stolen badge: a new token; the old QR reads ``revoked`` from now on."""
    credential = credential_access(user=request.auth, credential_id=credential_id)
    services.credential_reissue_badge(actor=request.auth, credential=credential, reason=payload.reason)
    return _reloaded(credential_id)
