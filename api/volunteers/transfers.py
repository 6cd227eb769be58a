"""Place transfers: ``/signups/{id}/transfers``, ``/transfers/{id}…``, ``/me/transfers``. Giving a
place back to the waitlist is ``DELETE /signups/{id}`` (the first waitlisted volunteer moves up)."""

from __future__ import annotations

from ninja import Router, Status

from api.schemas import ERRORS
from api.volunteers.participation_schemas import SignupTransferIn, SignupTransferListOut, SignupTransferOut
from backend.volunteers import selectors, services
from backend.volunteers.permissions import Action, signup_access, transfer_access

router = Router()


@router.post("/signups/{signup_id}/transfers", response={201: SignupTransferOut, **ERRORS})
def transfer_offer(request, signup_id: int, payload: SignupTransferIn):
    """Offer my confirmed place to a named volunteer (by volunteer number). The offer lapses after
    ``LINLI_VOLUNTEER_TRANSFER_HOURS`` (default 24) or when the shift starts; one open offer per
    place; I keep the place until the receiver accepts."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.SIGNUP_CANCEL)
    offer = services.signup_transfer_offer(signup=signup, by=request.auth, volunteer_no=payload.volunteer_no)
    return Status(201, selectors.transfer_get(transfer_id=offer.pk))


@router.get("/me/transfers", response={200: SignupTransferListOut, **ERRORS})
def my_transfers(request):
    """Offers I made or received, newest first (the last 50)."""
    return {"items": selectors.transfers_of(user=request.auth)}


@router.post("/transfers/{transfer_id}/accept", response={200: SignupTransferOut, **ERRORS})
def transfer_accept(request, transfer_id: int):
    """The receiver accepts: in one transaction the giver's sign-up becomes ``transferred`` and the
    receiver holds the place (``new_signup_id``), after the same checks as a sign-up (age, skills,
    consent, overlap, bans: their codes as for ``POST /shifts/{id}/signups``); 409
    ``transfer_expired`` after expiry."""
    offer = transfer_access(user=request.auth, transfer_id=transfer_id, action=Action.TRANSFER_ANSWER)
    services.signup_transfer_accept(offer=offer, by=request.auth)
    return selectors.transfer_get(transfer_id=offer.pk)


@router.post("/transfers/{transfer_id}/decline", response={200: SignupTransferOut, **ERRORS})
def transfer_decline(request, transfer_id: int):
    """The receiver declines, or the giver withdraws, an open offer."""
    offer = transfer_access(user=request.auth, transfer_id=transfer_id)
    services.signup_transfer_close(offer=offer, by=request.auth)
    return selectors.transfer_get(transfer_id=offer.pk)
