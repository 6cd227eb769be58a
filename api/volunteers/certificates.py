"""Service certificates: the volunteer's PDF and the public check of its QR code."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from ninja import Router
from ninja.throttling import SimpleRateThrottle

from api.schemas import ERRORS
from api.volunteers.schemas import VolunteerCertificateVerifyOut
from backend.core.context import client_ip
from backend.core.errors import NotFound
from backend.volunteers import documents, selectors, services
from backend.volunteers.permissions import profile_access

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
    """
    profile = profile_access(user=request.auth)
    cert = services.certificate_request(user=request.auth, organisation_id=organisation_id)
    pdf, cjk = documents.certificate_pdf(cert=cert, profile=profile)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.number}.pdf"'
    response["X-Certificate-Number"] = cert.number
    response["X-Certificate-Font"] = "cjk" if cjk else "latin-fallback"
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
