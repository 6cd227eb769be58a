"""Reads of the credit lists (民政部令60号): dated listings of a group, removed ones included."""

from __future__ import annotations

from backend.filings.models import CreditListing, Group


def listing_get(*, listing_id: int) -> CreditListing | None:
    return CreditListing.objects.select_related("group").filter(pk=listing_id).first()


def group_listings(group: Group) -> list[CreditListing]:
    return list(group.credit_listings.order_by("-listed_on", "-id"))
