"""The public lookup: a badge's live status (``/verify/{token}``), the manual lookup, and the keys.

Public, rate-limited per client address, never cached. The answers are built by
``backend.credentials.lookup.responses``, shared with the ASGI fast path and the page, so every
way in answers alike. Registered first: the hot path resolves its URL soonest.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from api.credentials.schemas import CredentialLookupOut, CredentialManualLookupIn, JwksOut
from api.schemas import ERRORS
from backend.core.keys import public_jwks
from backend.credentials.errors import CredentialNotFound
from backend.credentials.lookup.ratelimit import lookup_limit
from backend.credentials.lookup.responses import (
    error_json,
    manual_check,
    result_json,
    throttled_json,
    token_answer,
)

router = Router()


@router.get("/verify/keys", response={200: JwksOut}, auth=None)
def verify_keys(request: HttpRequest) -> HttpResponse:
    """The public Ed25519 keys (RFC 8037 JWK Set) that may still verify a badge or pass token,
    so an app can check a token offline. Retired keys stay listed while their tokens may be valid."""
    response = JsonResponse(public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@router.post("/verify/manual", response={200: CredentialLookupOut, **ERRORS}, auth=None)
def verify_manual(request: HttpRequest, payload: CredentialManualLookupIn) -> HttpResponse:
    """For people without a camera: certificate number **and** name. "Not found" and "name does
    not match" give the same 404 answer. Stricter rate limit than the QR lookup."""
    limit, result = manual_check(request, certificate_no=payload.certificate_no, name=payload.name)
    if not limit.allowed:
        return throttled_json(request, limit)
    if result is None:
        return error_json(request, CredentialNotFound())
    return result_json(request, result)


@router.get("/verify/{token}", response={200: CredentialLookupOut, 429: ERRORS[429]}, auth=None)
async def verify_token(request: HttpRequest, token: str) -> HttpResponse:
    """The live status behind a badge token (the mini-program's scan). The signature is checked
    before any database access; a forged or altered token reads ``not_genuine`` and costs no query.
    Under daphne the ASGI fast path (``backend.credentials.lookup.fastpath``) gives this same answer."""
    limit = await sync_to_async(lookup_limit.hit)(request.META)
    return await token_answer(request, token, channel="api", limit=limit)
