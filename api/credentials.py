"""Practitioner credentials: the association registry, QR badges and the public lookup.

Registry endpoints (``/associations/{id}/...``, ``/credentials/{id}/...``) are for association
admins of that association (``association_admin`` grant, scope ``association``) and platform
admins. The lookup endpoints (``/verify/...``) are public, rate-limited per client address and
never cached.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from api.auth import AuthedRequest
from api.schemas import ERRORS
from backend.core.crypto import unseal
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.keys import public_jwks
from backend.core.masking import mask_id_number, mask_name, mask_phone
from backend.core.pagination import keyset_page
from backend.core.permissions import authorize
from backend.credentials import badges, conf, selectors, services
from backend.credentials.errors import CredentialNotFound, PhotoRejected
from backend.credentials.lookup.ratelimit import lookup_limit
from backend.credentials.lookup.responses import (
    error_json,
    manual_check,
    result_json,
    throttled_json,
    token_answer,
)
from backend.credentials.models import Association, BlacklistEntry, Credential, Practitioner

router = Router(tags=["credentials"])


# --- schemas -----------------------------------------------------------------------------------


class Page(Schema):
    next_cursor: str | None = None


class AssociationIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    short_name: str = Field("", max_length=30)
    uscc: str = Field("", max_length=30)
    contact_phone: str = Field("", max_length=20)


class AssociationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    short_name: str | None = Field(None, max_length=30)
    uscc: str | None = Field(None, max_length=30)
    contact_phone: str | None = Field(None, max_length=20)


class AssociationOut(Schema):
    id: int
    name: str
    short_name: str
    uscc: str
    contact_phone: str


class PractitionerIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30)
    mobile: str = Field("", max_length=30)
    employer: str = Field("", max_length=100)


class PractitionerPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=50)
    id_number: str | None = Field(None, min_length=1, max_length=30)
    mobile: str | None = Field(None, max_length=30)
    employer: str | None = Field(None, max_length=100)
    status: Literal["active", "left"] | None = None


class PractitionerOut(Schema):
    id: int
    association_id: int
    name: str
    name_masked: str
    id_number_masked: str
    mobile_masked: str
    employer: str
    status: str
    blacklisted: bool
    photo_url: str | None
    photo_thumb_url: str | None


class PractitionerPage(Page):
    items: list[PractitionerOut]


class IdNumberOut(Schema):
    id_number: str


class CredentialIn(Schema):
    practitioner_id: int
    type: str = Field(min_length=1, max_length=50)
    certificate_no: str = Field(min_length=1, max_length=50)
    qualification: str = Field(min_length=1, max_length=100)
    valid_from: date
    valid_until: date


class CredentialOut(Schema):
    id: int
    association_id: int
    practitioner_id: int
    practitioner_name: str
    type: str
    certificate_no: str
    qualification: str
    valid_from: date
    valid_until: date
    status: str
    reason: str
    status_changed_at: Any = None
    verify_url: str
    token_issued: date


class CredentialPage(Page):
    items: list[CredentialOut]


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class RenewIn(Schema):
    valid_until: date


class CreditRecordIn(Schema):
    date: date
    kind: Literal["commendation", "training", "complaint", "violation", "other"]
    text: str = Field(min_length=1, max_length=2000)


class CreditRecordOut(Schema):
    id: int
    practitioner_id: int
    date: date
    kind: str
    text: str


class CreditRecordPage(Page):
    items: list[CreditRecordOut]


class BlacklistIn(Schema):
    listed_on: date
    reason: str = Field(min_length=1, max_length=2000)
    basis: str = Field(min_length=1, max_length=200)


class BlacklistOut(Schema):
    id: int
    practitioner_id: int
    practitioner_name: str
    listed_on: date
    reason: str
    basis: str
    lifted_at: Any = None
    lift_reason: str


class BlacklistPage(Page):
    items: list[BlacklistOut]


class ImportOut(Schema):
    rows: int
    practitioners_created: int
    credentials_created: int
    dry_run: bool


class LookupCredentialOut(Schema):
    masked_name: str
    employer: str
    association: str
    type: str
    qualification: str
    certificate_no: str
    valid_from: date
    valid_until: date
    photo_url: str | None


class LookupOut(Schema):
    status: Literal["valid", "expired", "not_yet_valid", "suspended", "revoked", "blacklisted", "not_genuine"]
    status_text: str
    genuine: bool
    checked_at: str
    credential: LookupCredentialOut | None


class ManualLookupIn(Schema):
    certificate_no: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=50)


class JwkOut(Schema):
    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str
    purpose: str
    status: str


class JwksOut(Schema):
    keys: list[JwkOut]


class StatsOut(Schema):
    days: int
    since: str
    total: int
    by_result: dict[str, int]
    by_channel: dict[str, int]
    by_client: dict[str, int]
    per_day: list[dict[str, Any]]
    top_credentials: list[dict[str, Any]]


# --- public lookup (registered first: the hot path resolves its URL soonest) -----------------------------------------------------------------------------


@router.get("/verify/keys", response={200: JwksOut}, auth=None)
def verify_keys(request):
    """The public Ed25519 keys (RFC 8037 JWK Set) that may still verify a badge or pass token,
    so an app can check a token offline. Retired keys stay listed while their tokens may be valid."""
    response = JsonResponse(public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@router.post("/verify/manual", response={200: LookupOut, **ERRORS}, auth=None)
def verify_manual(request, payload: ManualLookupIn):
    """For people without a camera: certificate number **and** name. "Not found" and "name does
    not match" give the same 404 answer. Stricter rate limit than the QR lookup."""
    limit, result = manual_check(request, certificate_no=payload.certificate_no, name=payload.name)
    if not limit.allowed:
        return throttled_json(request, limit)
    if result is None:
        return error_json(request, CredentialNotFound())
    return result_json(request, result)


@router.get("/verify/{token}", response={200: LookupOut, 429: ERRORS[429]}, auth=None)
async def verify_token(request, token: str):
    """The live status behind a badge token (the mini-program's scan). The signature is checked
    before any database access; a forged or altered token reads ``not_genuine`` and costs no query.
    Under daphne the ASGI fast path (``backend.credentials.lookup.fastpath``) gives this same answer."""
    limit = await sync_to_async(lookup_limit.hit)(request.META)
    return await token_answer(request, token, channel="api", limit=limit)


# --- helpers -----------------------------------------------------------------------------------


def _page(qs, cursor: str | None, limit: int, shape) -> dict[str, Any]:
    """Keyset pagination on descending id: constant queries per page, stable under inserts."""
    rows, next_cursor = keyset_page(qs, cursor=cursor, limit=limit)
    return {"items": [shape(row) for row in rows], "next_cursor": next_cursor}


def _storage_url(name: str) -> str | None:
    from django.core.files.storage import default_storage

    return default_storage.url(name) if name else None


def _association(
    request: AuthedRequest, association_id: int, action: str = "association.manage"
) -> Association:
    association = Association.objects.filter(pk=association_id).first()
    if association is None:
        raise NotFound()
    authorize(request.auth, action, association)
    return association


def _practitioner(request: AuthedRequest, association_id: int, practitioner_id: int) -> Practitioner:
    association = _association(request, association_id)
    practitioner = selectors.practitioner_get(association=association, practitioner_id=practitioner_id)
    if practitioner is None:
        raise NotFound()
    return practitioner


def _credential(request: AuthedRequest, credential_id: int) -> Credential:
    credential = selectors.credential_get(credential_id=credential_id)
    if credential is None:
        raise NotFound()
    authorize(request.auth, "association.manage", credential)
    return credential


def association_out(a: Association) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "short_name": a.short_name,
        "uscc": a.uscc,
        "contact_phone": a.contact_phone,
    }


def practitioner_out(p: Practitioner) -> dict[str, Any]:
    # Association admins registered these people and need their names; numbers stay masked
    # (the full ID number has its own audited endpoint).
    return {
        "id": p.pk,
        "association_id": p.association_id,
        "name": p.name,
        "name_masked": mask_name(p.name),
        "id_number_masked": mask_id_number(unseal(p.id_number_sealed, purpose=services.ID_PURPOSE)),
        "mobile_masked": mask_phone(p.mobile),
        "employer": p.employer,
        "status": p.status,
        "blacklisted": bool(getattr(p, "blacklisted", False)),
        "photo_url": _storage_url(p.photo),
        "photo_thumb_url": _storage_url(p.photo_thumb),
    }


def _reload(credential_id: int) -> Credential:
    """The credential as lists show it (with its relations), after a change."""
    credential = selectors.credential_get(credential_id=credential_id)
    if credential is None:
        raise NotFound()
    return credential


def credential_out(c: Credential) -> dict[str, Any]:
    return {
        "id": c.pk,
        "association_id": c.association_id,
        "practitioner_id": c.practitioner_id,
        "practitioner_name": c.practitioner.name,
        "type": c.type,
        "certificate_no": c.certificate_no,
        "qualification": c.qualification,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "status": c.status,
        "reason": c.reason,
        "status_changed_at": c.status_changed_at,
        "verify_url": badges.credential_url(c),
        "token_issued": c.token_issued,
    }


def credit_out(r) -> dict[str, Any]:
    return {"id": r.pk, "practitioner_id": r.practitioner_id, "date": r.date, "kind": r.kind, "text": r.text}


def blacklist_out(e: BlacklistEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "practitioner_id": e.practitioner_id,
        "practitioner_name": e.practitioner.name,
        "listed_on": e.listed_on,
        "reason": e.reason,
        "basis": e.basis,
        "lifted_at": e.lifted_at,
        "lift_reason": e.lift_reason,
    }


# --- associations ------------------------------------------------------------------------------


@router.get("/associations", response={200: list[AssociationOut], **ERRORS})
def association_list(request):
    """Associations the caller administers (all for a platform admin)."""
    return [association_out(a) for a in selectors.association_list(user=request.auth)]


@router.post("/associations", response={201: AssociationOut, **ERRORS})
def association_create(request, payload: AssociationIn):
    """Platform admins register an association; they then grant ``association_admin`` roles."""
    authorize(request.auth, "association.create", hide=False)
    association = services.association_create(actor=request.auth, **payload.dict())
    return Status(201, association_out(association))


@router.get("/associations/{association_id}", response={200: AssociationOut, **ERRORS})
def association_detail(request, association_id: int):
    return association_out(_association(request, association_id, "association.view"))


@router.patch("/associations/{association_id}", response={200: AssociationOut, **ERRORS})
def association_update(request, association_id: int, payload: AssociationPatch):
    association = _association(request, association_id)
    return association_out(
        services.association_update(
            actor=request.auth, association=association, **payload.dict(exclude_unset=True)
        )
    )


# --- practitioners -----------------------------------------------------------------------------


@router.get("/associations/{association_id}/practitioners", response={200: PractitionerPage, **ERRORS})
def practitioner_list(
    request,
    association_id: int,
    q: str = "",
    status: str = "",
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    association = _association(request, association_id)
    qs = selectors.practitioner_list(association=association, q=q.strip(), status=status)
    return _page(qs, cursor, limit, practitioner_out)


@router.post("/associations/{association_id}/practitioners", response={201: PractitionerOut, **ERRORS})
def practitioner_create(request, association_id: int, payload: PractitionerIn):
    association = _association(request, association_id)
    practitioner = services.practitioner_create(actor=request.auth, association=association, **payload.dict())
    return Status(201, practitioner_out(practitioner))


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_detail(request, association_id: int, practitioner_id: int):
    return practitioner_out(_practitioner(request, association_id, practitioner_id))


@router.patch(
    "/associations/{association_id}/practitioners/{practitioner_id}",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_update(request, association_id: int, practitioner_id: int, payload: PractitionerPatch):
    practitioner = _practitioner(request, association_id, practitioner_id)
    services.practitioner_update(
        actor=request.auth, practitioner=practitioner, **payload.dict(exclude_unset=True)
    )
    return practitioner_out(_practitioner(request, association_id, practitioner_id))


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}/id-number",
    response={200: IdNumberOut, **ERRORS},
)
def practitioner_id_number(request, association_id: int, practitioner_id: int):
    """The full ID number, for an admin who needs it; every read is audited."""
    practitioner = _practitioner(request, association_id, practitioner_id)
    authorize(request.auth, "practitioner.read_id_number", practitioner, hide=False)
    return {"id_number": services.practitioner_id_number_read(actor=request.auth, practitioner=practitioner)}


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/photo",
    response={200: PractitionerOut, **ERRORS},
)
def practitioner_photo(request, association_id: int, practitioner_id: int, file: UploadedFile = File(...)):
    """Multipart upload of the badge photo: type from the bytes, EXIF (GPS!) stripped, thumbnail."""
    practitioner = _practitioner(request, association_id, practitioner_id)
    if file.size and file.size > conf.photo_max_bytes():
        raise PhotoRejected(code="file_too_large", limit=conf.photo_max_bytes())
    services.practitioner_photo_set(actor=request.auth, practitioner=practitioner, data=file.read())
    return practitioner_out(_practitioner(request, association_id, practitioner_id))


@router.get(
    "/associations/{association_id}/practitioners/{practitioner_id}/credit-records",
    response={200: CreditRecordPage, **ERRORS},
)
def credit_record_list(
    request,
    association_id: int,
    practitioner_id: int,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    practitioner = _practitioner(request, association_id, practitioner_id)
    return _page(selectors.credit_record_list(practitioner=practitioner), cursor, limit, credit_out)


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/credit-records",
    response={201: CreditRecordOut, **ERRORS},
)
def credit_record_add(request, association_id: int, practitioner_id: int, payload: CreditRecordIn):
    practitioner = _practitioner(request, association_id, practitioner_id)
    record = services.credit_record_add(actor=request.auth, practitioner=practitioner, **payload.dict())
    return Status(201, credit_out(record))


@router.post(
    "/associations/{association_id}/practitioners/{practitioner_id}/blacklist",
    response={201: BlacklistOut, **ERRORS},
)
def practitioner_blacklist(request, association_id: int, practitioner_id: int, payload: BlacklistIn):
    """Blacklist a practitioner: all their badges read ``blacklisted`` from the next scan on."""
    practitioner = _practitioner(request, association_id, practitioner_id)
    entry = services.practitioner_blacklist(actor=request.auth, practitioner=practitioner, **payload.dict())
    return Status(201, blacklist_out(entry))


@router.get("/associations/{association_id}/blacklist", response={200: BlacklistPage, **ERRORS})
def blacklist_list(
    request,
    association_id: int,
    include_lifted: bool = False,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    association = _association(request, association_id)
    qs = selectors.blacklist_list(association=association, include_lifted=include_lifted)
    return _page(qs, cursor, limit, blacklist_out)


@router.post(
    "/associations/{association_id}/blacklist/{entry_id}/lift", response={200: BlacklistOut, **ERRORS}
)
def blacklist_lift(request, association_id: int, entry_id: int, payload: ReasonIn):
    association = _association(request, association_id)
    entry = get_object_or_404(
        BlacklistEntry.objects.select_related("practitioner"),
        pk=entry_id,
        practitioner__association=association,
    )
    return blacklist_out(services.blacklist_lift(actor=request.auth, entry=entry, reason=payload.reason))


# --- credentials -------------------------------------------------------------------------------


@router.get("/associations/{association_id}/credentials", response={200: CredentialPage, **ERRORS})
def credential_list(
    request,
    association_id: int,
    status: str = "",
    practitioner_id: int | None = None,
    expiring_within: int | None = Query(None, ge=0, le=3650),
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    association = _association(request, association_id)
    qs = selectors.credential_list(
        association=association,
        status=status,
        practitioner_id=practitioner_id,
        expiring_within=expiring_within,
    )
    return _page(qs, cursor, limit, credential_out)


@router.post("/associations/{association_id}/credentials", response={201: CredentialOut, **ERRORS})
def credential_issue(request, association_id: int, payload: CredentialIn):
    """Register a credential and sign its badge token."""
    association = _association(request, association_id)
    data = payload.dict()
    practitioner = selectors.practitioner_get(
        association=association, practitioner_id=data.pop("practitioner_id")
    )
    if practitioner is None:
        raise ValidationFailed(
            errors=[
                field_error("practitioner_id", "not_found", T("找不到该从业人员。", "No such practitioner."))
            ]
        )
    credential = services.credential_issue(actor=request.auth, practitioner=practitioner, **data)
    return Status(201, credential_out(_reload(credential.pk)))


@router.post("/associations/{association_id}/import", response={200: ImportOut, **ERRORS})
def credential_import(request, association_id: int, file: UploadedFile = File(...), dry_run: bool = False):
    """CSV or Excel (.xlsx), one row per credential: all rows are written or none, with a
    per-row error report (422 ``import_failed``, ``details.errors[].row``)."""
    association = _association(request, association_id)
    if file.size and file.size > conf.import_max_bytes():
        raise ValidationFailed(
            errors=[field_error("file", "too_large", T("文件过大。", "The file is too large."))]
        )
    return services.credentials_import(
        actor=request.auth,
        association=association,
        data=file.read(),
        filename=file.name or "",
        dry_run=dry_run,
    )


@router.get("/associations/{association_id}/scan-stats", response={200: StatsOut, **ERRORS})
def scan_stats(request, association_id: int, days: int = Query(30, ge=1, le=366)):
    """How often the association's badges were looked up, with which outcome, from which clients."""
    association = _association(request, association_id, "association.view")
    return selectors.scan_stats(association=association, days=days)


@router.get("/credentials/{credential_id}", response={200: CredentialOut, **ERRORS})
def credential_detail(request, credential_id: int):
    return credential_out(_credential(request, credential_id))


def _transition(request, credential_id: int, payload: ReasonIn, service) -> dict[str, Any]:
    credential = _credential(request, credential_id)
    service(actor=request.auth, credential=credential, reason=payload.reason)
    return credential_out(_reload(credential_id))


@router.post("/credentials/{credential_id}/suspend", response={200: CredentialOut, **ERRORS})
def credential_suspend(request, credential_id: int, payload: ReasonIn):
    return _transition(request, credential_id, payload, services.credential_suspend)


@router.post("/credentials/{credential_id}/revoke", response={200: CredentialOut, **ERRORS})
def credential_revoke(request, credential_id: int, payload: ReasonIn):
    return _transition(request, credential_id, payload, services.credential_revoke)


@router.post("/credentials/{credential_id}/reinstate", response={200: CredentialOut, **ERRORS})
def credential_reinstate(request, credential_id: int, payload: ReasonIn):
    return _transition(request, credential_id, payload, services.credential_reinstate)


@router.post("/credentials/{credential_id}/renew", response={200: CredentialOut, **ERRORS})
def credential_renew(request, credential_id: int, payload: RenewIn):
    """Change the validity; the badge gets a new token (reprint it)."""
    credential = _credential(request, credential_id)
    services.credential_renew(actor=request.auth, credential=credential, valid_until=payload.valid_until)
    return credential_out(_reload(credential_id))


@router.post("/credentials/{credential_id}/reissue-badge", response={200: CredentialOut, **ERRORS})
def credential_reissue_badge(request, credential_id: int, payload: ReasonIn):
    """A lost or stolen badge: a new token; the old QR reads ``revoked`` from now on."""
    credential = _credential(request, credential_id)
    services.credential_reissue_badge(actor=request.auth, credential=credential, reason=payload.reason)
    return credential_out(_reload(credential_id))


def _image(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/credentials/{credential_id}/qr.png", response={200: None, **ERRORS})
def credential_qr_png(request, credential_id: int, scale: int = Query(8, ge=2, le=20)):
    """The badge QR: ``https://<host>/v/<TOKEN>``, ECC M, version ≤ 10, 4-module quiet zone."""
    credential = _credential(request, credential_id)
    return _image(
        badges.credential_qr_png(credential, scale=scale), "image/png", f"{credential.certificate_no}.png"
    )


@router.get("/credentials/{credential_id}/qr.svg", response={200: None, **ERRORS})
def credential_qr_svg(request, credential_id: int):
    credential = _credential(request, credential_id)
    return _image(badges.credential_qr_svg(credential), "image/svg+xml", f"{credential.certificate_no}.svg")


@router.get("/credentials/{credential_id}/badge.png", response={200: None, **ERRORS})
def credential_badge(request, credential_id: int):
    """A printable badge (ID-1 card at 300 dpi): photo, masked name, association, qualification, QR."""
    credential = _credential(request, credential_id)
    return _image(
        badges.credential_badge_png(credential), "image/png", f"badge-{credential.certificate_no}.png"
    )
