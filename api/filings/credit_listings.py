"""Credit listings by the reviewer: list a group by hand, remove a listing once the duty is met."""

from __future__ import annotations

from ninja import Router, Status

from api.filings.schemas import CreditListingIn, CreditListingOut, CreditListingRemoveIn
from api.schemas import ERRORS
from backend.core.errors import NotFound
from backend.filings import services
from backend.filings.permissions import Action, group_access, listing_access

router = Router()


@router.post(
    "/review/orgs/{group_id}/credit-listings",
    response={201: CreditListingOut, **ERRORS},
)
def listing_create(request, group_id: int, payload: CreditListingIn):
    """List a group by hand (e.g. unreachable at its address), with reason and basis."""
    group = group_access(user=request.auth, group_id=group_id, action=Action.ORG_REVIEW)
    listing = services.credit_listing_create(group=group, actor=request.auth, **payload.model_dump())
    if listing is None:  # only a dedupe key or an inactive group without an actor gives None
        raise NotFound()
    return Status(201, listing)


@router.post(
    "/review/credit-listings/{listing_id}/remove",
    response={200: CreditListingOut, **ERRORS},
)
def listing_remove(request, listing_id: int, payload: CreditListingRemoveIn):
    """Remove a listing once the duty is met (the dated row stays)."""
    listing = listing_access(user=request.auth, listing_id=listing_id, action=Action.LISTING_REVIEW)
    return services.credit_listing_remove(listing=listing, actor=request.auth, **payload.model_dump())
