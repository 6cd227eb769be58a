"""Credit lists (民政部令60号): listing a group on the abnormal (活动异常名录) or serious (严重违法失信名单)
list, and removing a listing. Listings are dated rows with reasons and basis, never deleted;
the time rules (automatic listing, escalation, removal) are run by ``jobs.credit_list_sweep``."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings import conf
from backend.filings.errors import ListingAlreadyRemoved, OrgNotActive
from backend.filings.models import CreditListing, Group
from backend.filings.selectors import today_local
from backend.filings.services._common import iso
from backend.notifications.services import notify


def _signed_in(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def credit_listing_create(
    *,
    group: Group,
    actor: User | None,
    list_kind: str,
    reason_code: str,
    reason: str,
    basis: str,
    fix_required: bool = True,
    related_year: int | None = None,
    source_listing: CreditListing | None = None,
    dedupe_key: str | None = None,
    today: date | None = None,
) -> CreditListing | None:
    """List a group; with a ``dedupe_key`` already used, nothing happens and ``None`` returns.
    A deregistered or revoked group is not listed: the sweep (no ``actor``) skips it quietly."""
    today = today or today_local()
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("请写明列入事由。", "Give the reason."))]
        )
    if group.status in (Group.Status.DEREGISTERED, Group.Status.REVOKED):
        if actor is None:
            return None
        raise OrgNotActive(status=group.status)
    with transaction.atomic():
        try:
            with transaction.atomic():
                listing = CreditListing.objects.create(
                    group=group,
                    list_kind=list_kind,
                    reason_code=reason_code,
                    reason=reason.strip(),
                    basis=basis.strip() or conf.CREDIT_BASIS,
                    fix_required=fix_required,
                    related_year=related_year,
                    listed_on=today,
                    listed_by=_signed_in(actor),
                    source_listing=source_listing,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            if dedupe_key is None:
                raise
            return None
        audit_record(
            actor=actor,
            action=f"credit_listing.{list_kind}_listed",
            target=listing,
            data={"group": group.pk, "reason_code": reason_code, "related_year": related_year},
            reason=reason,
        )
        kind = "org.serious_listed" if list_kind == CreditListing.ListKind.SERIOUS else "org.abnormal_listed"
        notify(
            user=group.rep,
            kind=kind,
            params={"group_name": group.name, "reason": reason, "listed_on": iso(today)},
            target=group,
            dedupe_key=f"{kind}:{listing.pk}",
        )
    return listing


def credit_listing_remove(
    *,
    listing: CreditListing,
    actor: User | None,
    reason: str,
    basis: str = "",
    today: date | None = None,
) -> CreditListing:
    """Remove a listing (the row stays, dated). Exactly once: a second removal is a 409."""
    today = today or today_local()
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("请写明移出理由。", "Give the reason."))]
        )
    with transaction.atomic():
        updated = CreditListing.objects.filter(pk=listing.pk, removed_on__isnull=True).update(
            removed_on=today,
            removed_by=_signed_in(actor),
            removal_reason=reason.strip(),
            removal_basis=basis.strip() or conf.CREDIT_BASIS,
        )
        if not updated:
            raise ListingAlreadyRemoved()
        listing.refresh_from_db()
        audit_record(
            actor=actor,
            action="credit_listing.removed",
            target=listing,
            data={"group": listing.group_id},
            reason=reason,
        )
        notify(
            user=listing.group.rep,
            kind="org.listing_removed",
            params={
                "group_name": listing.group.name,
                "list_label": listing.get_list_kind_display(),
                "removed_on": iso(today),
                "reason": reason,
            },
            target=listing.group,
            dedupe_key=f"org.listing_removed:{listing.pk}",
        )
    return listing
