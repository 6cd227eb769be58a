"""Schemas of the filings API. Output is read from the rows the selectors and services prepare
(``selectors.filing_detail``, ``services.filing_detail_reveal``, ``selectors.group_detail``):
masking and who sees what are decided there; these classes only read and localise.

Names are unique across the whole API (one OpenAPI component each): generic ones carry the
``Filing`` prefix (``FilingEventOut``, ``FilingPersonOut``, ``FilingReasonIn``, ``FilingPolicyOut``…).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from api.schemas import TEXT_PATTERN, Schema
from backend.core.i18n import ZH, choice_label, context_lang, localize, request_lang
from backend.core.signed_urls import signed_url

CategoryName = Literal[
    "elderly_care", "culture_sports", "charity", "community_service", "volunteer_team", "other"
]
RoleName = Literal["founder", "member"]
AttachmentKindName = Literal[
    "application_form",
    "member_roster",
    "charter",
    "venue_proof",
    "leader_id",
    "guiding_unit_consent",
    "other",
]


def _lang(context: dict[str, Any] | None) -> str:
    request = (context or {}).get("request")
    return request_lang(request) if request is not None else ZH


# --- input --------------------------------------------------------------------------------------

# English labels where the value in words would read oddly (the rest: backend.core.i18n).
STATUS_EN = {
    "active": "Filed",
    "accepted": "Accepted (under review)",
    "correction_requested": "Corrections requested",
    "resubmitted": "Corrected (under review)",
}
LIST_EN = {"abnormal": "Abnormal-activity list", "serious": "Serious violations list"}


class FilingPersonIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=32)
    phone: str = Field("", max_length=20)
    role: RoleName


class FilingIn(Schema):
    name: str = Field("", max_length=100)
    category: CategoryName
    community: str = Field(min_length=12, max_length=12)
    address: str = Field("", max_length=200)
    activity_area: str = Field("", max_length=200)
    purpose: str = Field("", max_length=2000)
    guiding_unit: str = Field("", max_length=100)
    rep_name: str = Field("", max_length=50)
    party_members: int = Field(0, ge=0, le=100000)
    party_org: bool = False
    party_in_charter: bool = False
    persons: list[FilingPersonIn] = Field(default_factory=list, max_length=1000)


class FilingPatch(Schema):
    name: str | None = Field(None, max_length=100)
    category: CategoryName | None = None
    community: str | None = Field(None, min_length=12, max_length=12)
    address: str | None = Field(None, max_length=200)
    activity_area: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=2000)
    guiding_unit: str | None = Field(None, max_length=100)
    rep_name: str | None = Field(None, max_length=50)
    party_members: int | None = Field(None, ge=0, le=100000)
    party_org: bool | None = None
    party_in_charter: bool | None = None
    statement: str | None = Field(None, max_length=2000)
    persons: list[FilingPersonIn] | None = Field(None, max_length=1000)


class FilingVersionIn(Schema):
    version: int | None = Field(None, ge=1)


class FilingReasonIn(Schema):
    field: str = Field("", max_length=60)
    reason: str = Field(min_length=1, max_length=1000, pattern=TEXT_PATTERN)


class FilingReasonsIn(FilingVersionIn):
    reasons: list[FilingReasonIn] = Field(default_factory=list, max_length=50)


class GroupFilingIn(Schema):
    kind: Literal["change", "renewal", "deregistration"]
    statement: str = Field("", max_length=2000)


class AnnualReportIn(Schema):
    year: int = Field(ge=2000, le=2100)
    member_count: int = Field(ge=0, le=1000000)
    activities_held: int = Field(ge=0, le=100000)
    summary: str = Field(min_length=1, max_length=5000)


class FilingOrgRevokeIn(Schema):
    reasons: list[FilingReasonIn] = Field(default_factory=list, max_length=50)


class CreditListingIn(Schema):
    list_kind: Literal["abnormal", "serious"] = "abnormal"
    reason_code: Literal["unreachable", "other"]
    reason: str = Field(min_length=1, max_length=1000, pattern=TEXT_PATTERN)
    basis: str = Field("", max_length=1000)
    fix_required: bool = True


class CreditListingRemoveIn(Schema):
    reason: str = Field(min_length=1, max_length=1000, pattern=TEXT_PATTERN)
    basis: str = Field("", max_length=1000)


# --- filings ------------------------------------------------------------------------------------


class FilingPersonOut(Schema):
    # A roster entry (``selectors.RosterEntry``), masked.
    position: int
    name: str
    role: str
    id_number_masked: str
    phone_masked: str


class FilingPersonFullOut(FilingPersonOut):
    # A roster entry revealed to the reviewer deciding (the read is audited).
    id_number: str
    phone: str


class FilingAttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None
    signed_url: str = Field(
        description="The file without an Authorization header (the mini-program's `<image>`), "
        "for LINLI_SIGNED_URL_TTL seconds."
    )
    signed_thumbnail_url: str | None = Field(description="The thumbnail, signed like `signed_url`.")
    created_at: datetime

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/api/v1/filings/{obj.filing_id}/attachments/{obj.pk}/file"

    @staticmethod
    def resolve_thumbnail_url(obj: Any) -> str | None:
        return f"{FilingAttachmentOut.resolve_url(obj)}?thumbnail=true" if obj.thumbnail else None

    @staticmethod
    def resolve_signed_url(obj: Any) -> str:
        return signed_url(obj.file)

    @staticmethod
    def resolve_signed_thumbnail_url(obj: Any) -> str | None:
        return signed_url(obj.thumbnail) if obj.thumbnail else None


class FilingReasonOut(Schema):
    field: str = ""
    reason: str


class FilingEventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    reasons: list[FilingReasonOut]
    note: str
    actor_name: str

    @staticmethod
    def resolve_actor_name(obj: Any) -> str:
        return obj.actor.display_name if obj.actor else "系统"


class FilingSummaryOut(Schema):
    # A filing from ``selectors.filings_shown`` (``overdue`` and ``clock_paused`` annotated).
    id: int
    kind: str
    status: str
    status_label: str
    version: int
    name: str
    category: str
    community: str
    community_name: str
    group_id: int | None
    submitted_at: datetime | None
    accepted_on: date | None
    due_date: date | None
    clock_paused: bool
    paused_days_left: int | None
    overdue: bool
    reasons: list[FilingReasonOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_status_label(obj: Any, context: Any) -> str:
        return choice_label(obj, "status", context_lang(context), STATUS_EN)

    @staticmethod
    def resolve_community(obj: Any) -> str:
        return obj.community_id

    @staticmethod
    def resolve_community_name(obj: Any) -> str:
        return obj.community.name

    @staticmethod
    def resolve_reasons(obj: Any) -> list[dict[str, str]]:
        return obj.reasons or []


class FilingOut(FilingSummaryOut):
    # A filing prepared by ``selectors.filing_detail`` (``roster``, ``documents``, ``history``).
    address: str
    activity_area: str
    purpose: str
    guiding_unit: str
    rep_name: str
    party_members: int
    party_org: bool
    party_in_charter: bool
    statement: str
    reviewing_division_code: str
    filing_number: str | None
    valid_until: date | None
    persons: list[FilingPersonOut]
    attachments: list[FilingAttachmentOut]
    history: list[FilingEventOut]

    @staticmethod
    def resolve_filing_number(obj: Any) -> str | None:
        return obj.group.filing_number if obj.group else None

    @staticmethod
    def resolve_valid_until(obj: Any) -> date | None:
        return obj.group.valid_until if obj.group else None

    @staticmethod
    def resolve_persons(obj: Any) -> list[Any]:
        return obj.roster

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return obj.documents


class ReviewFilingOut(FilingOut):
    # A filing prepared by ``services.filing_detail_reveal``: the full roster.
    persons: list[FilingPersonFullOut]  # type: ignore[assignment]
    rep_phone: str

    @staticmethod
    def resolve_rep_phone(obj: Any) -> str:
        return obj.rep.phone


class FilingPage(Schema):
    items: list[FilingSummaryOut]
    next_cursor: str | None


class FilingProblemOut(Schema):
    # One problem of ``selectors.filing_check``: field, code, message, the rest as details.
    field: str
    code: str
    message: str
    details: dict[str, Any] = {}

    @staticmethod
    def resolve_message(obj: dict[str, Any], context: dict[str, Any] | None = None) -> str:
        return localize(obj.get("message", ""), _lang(context))

    @staticmethod
    def resolve_details(obj: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
        details = {k: v for k, v in obj.items() if k not in ("field", "code", "message")}
        return localize(details, _lang(context))


class FilingCheckOut(Schema):
    ok: bool
    problems: list[FilingProblemOut]


class FilingNameReasonOut(Schema):
    # One ``selectors.NameProblem``.
    code: str
    message: str

    @staticmethod
    def resolve_message(obj: Any, context: dict[str, Any] | None = None) -> str:
        return localize(obj.message, _lang(context))


class FilingNameCheckOut(Schema):
    name: str
    acceptable: bool
    reasons: list[FilingNameReasonOut]


class FilingPolicyOut(Schema):
    # A ``selectors.EffectivePolicy``.
    division_code: str
    min_founders: int
    min_members: int
    required_attachments: list[str]
    review_days: int
    review_working_days: bool
    validity_years: int
    renewal_window_days: int
    reviewing_level: str
    reviewing_division_code: str
    annual_report_due_month: int
    annual_report_due_day: int
    sources: dict[str, str]

    @staticmethod
    def resolve_reviewing_division_code(obj: Any) -> str:
        return obj.reviewing_division_code()


# --- groups -------------------------------------------------------------------------------------


class CreditListingOut(Schema):
    id: int
    list_kind: str
    list_label: str
    reason_code: str
    reason: str
    basis: str
    related_year: int | None
    listed_on: date
    fixed_on: date | None
    removal_due: date | None
    removed_on: date | None
    removal_reason: str

    @staticmethod
    def resolve_list_label(obj: Any, context: Any) -> str:
        return choice_label(obj, "list_kind", context_lang(context), LIST_EN)


class FilingOrgOut(Schema):
    # A group from the selectors of ``selectors.groups`` (list flags annotated, names masked).
    id: int
    name: str
    category: str
    community: str
    community_name: str
    filing_number: str
    issuing_division_code: str
    status: str
    status_label: str
    filed_on: date
    valid_until: date
    rep_name_masked: str
    on_abnormal_list: bool
    on_serious_list: bool

    @staticmethod
    def resolve_community(obj: Any) -> str:
        return obj.community_id

    @staticmethod
    def resolve_community_name(obj: Any) -> str:
        return obj.community.name

    @staticmethod
    def resolve_status_label(obj: Any, context: Any) -> str:
        return choice_label(obj, "status", context_lang(context), STATUS_EN)


class FilingOrgDetailOut(FilingOrgOut):
    # A group prepared by ``selectors.group_detail``.
    address: str
    activity_area: str
    purpose: str
    guiding_unit: str
    party_members: int
    party_org: bool
    party_in_charter: bool
    founders_masked: list[str]
    annual_report_years: list[int]
    credit_listings: list[CreditListingOut]

    @staticmethod
    def resolve_credit_listings(obj: Any) -> list[Any]:
        return obj.listings


class FilingOrgPage(Schema):
    items: list[FilingOrgOut]
    next_cursor: str | None


class AnnualReportOut(Schema):
    id: int
    year: int
    member_count: int
    activities_held: int
    summary: str
    submitted_at: datetime
