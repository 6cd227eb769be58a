"""Service certificates: the volunteer's PDF and the public check of its QR code."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from ninja import Router
from ninja.throttling import SimpleRateThrottle

from api.schemas import ERRORS
from api.volunteers.schemas import (
    VolunteerCertificateOut,
    VolunteerCertificateRevokeIn,
    VolunteerCertificateVerifyOut,
    VolunteerProofCheckOut,
)
from backend.core.context import client_ip
from backend.core.errors import NotFound
from backend.volunteers import documents, selectors, services
from backend.volunteers.permissions import certificate_access, profile_access
from backend.volunteers.proofs import proof_url

router = Router()


class CertificateVerifyThrottle(SimpleRateThrottle):
    """Per client address on the public certificate check (``LINLI_VOLUNTEER_VERIFY_RATE``)."""

    def __init__(self) -> None:
        super().__init__(getattr(settings, "LINLI_VOLUNTEER_VERIFY_RATE", "60/m"))

    def get_cache_key(self, request) -> str | None:
        return f"throttle:volunteer_cert_verify:{client_ip(request.META, settings.NINJA_NUM_PROXIES)}"


@router.get("/me/certificate", response={200: None, **ERRORS})
def my_certificate(request, organisation_id: int | None = None):
    """A PDF certificate of approved hours, issued by the organisation that recorded them.

    With several recording organisations, ``organisation_id`` picks one (422 without it).
    The QR carries the signed proof (志愿服务记录证明); its page URL is in ``X-Certificate-Proof-Url``.
    """
    profile = profile_access(user=request.auth)
    cert = services.certificate_request(user=request.auth, organisation_id=organisation_id)
    pdf, cjk = documents.certificate_pdf(cert=cert, profile=profile)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.number}.pdf"'
    response["X-Certificate-Number"] = cert.number
    response["X-Certificate-Font"] = "cjk" if cjk else "latin-fallback"
    response["X-Certificate-Proof-Url"] = proof_url(cert.proof_token)
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/certificates/verify/{code}",
    response={200: VolunteerCertificateVerifyOut, **ERRORS},
    auth=None,
    throttle=[CertificateVerifyThrottle()],
)
def certificate_verify(request, code: str):
    """Public check of a certificate's QR code: the masked holder, issuer, hours and date."""
    cert = selectors.certificate_by_code(code=code)
    if cert is None:
        raise NotFound()
    return cert


@router.get(
    "/certificates/proofs/{token}",
    response={200: VolunteerProofCheckOut, **ERRORS},
    auth=None,
    throttle=[CertificateVerifyThrottle()],
)
def certificate_proof_check(request, token: str):
    """The live check of a signed proof (what the page ``/c/{token}`` shows, as JSON for the
    mini-program): ``genuine``, ``revoked`` or ``not_genuine``, with the signed fields. The
    signature is checked first: a forged token costs no query."""
    return selectors.certificate_proof_check(token=token[:4000])


@router.post(
    "/certificates/{number}/revoke",
    response={200: VolunteerCertificateOut, **ERRORS},
)
def certificate_revoke(request, number: str, payload: VolunteerCertificateRevokeIn):
    """Revoke a certificate and its signed proof, e.g. after its service records were corrected
    (coordinators of the issuing organisation, platform admins). Its QR page reads "revoked" at
    once. A certificate is also revoked by itself when a later one of the same organisation
    finds fewer approved hours than it states (``reason`` ``records_corrected``)."""
    cert = certificate_access(user=request.auth, number=number)
    return services.certificate_revoke(certificate=cert, by=request.auth, reason=payload.reason)
