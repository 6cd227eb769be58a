"""Community-group filing: drafts, attachments, submission, review, groups, annual reports, credit lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.files.storage import default_storage
from django.http import FileResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from api.auth import bearer
from api.schemas import ERRORS, OkOut
from api.throttles import ClientIpThrottle
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T, localize, request_lang
from backend.core.masking import mask_name, mask_phone
from backend.core.permissions import authorize, can
from backend.filings import conf, selectors, services
from backend.filings.models import Category, CreditListing, Filing, Group

router = Router(tags=["filings"])

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


def _throttle() -> ClientIpThrottle:
    return ClientIpThrottle("60/m", "filings-public")


# --- schemas ------------------------------------------------------------------------------------


class PersonIn(Schema):
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
    persons: list[PersonIn] = Field(default_factory=list, max_length=1000)


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
    persons: list[PersonIn] | None = Field(None, max_length=1000)


class PersonOut(Schema):
    position: int
    name: str
    role: str
    id_number_masked: str
    phone_masked: str


class PersonFullOut(PersonOut):
    id_number: str
    phone: str


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None
    created_at: datetime


class ReasonOut(Schema):
    field: str = ""
    reason: str


class EventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    reasons: list[ReasonOut]
    note: str
    actor_name: str


class FilingSummaryOut(Schema):
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
    reasons: list[ReasonOut]
    created_at: datetime
    updated_at: datetime


class FilingOut(FilingSummaryOut):
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
    persons: list[PersonOut]
    attachments: list[AttachmentOut]
    history: list[EventOut]


class ReviewFilingOut(FilingOut):
    persons: list[PersonFullOut]  # type: ignore[assignment]
    rep_phone: str


class FilingPage(Schema):
    items: list[FilingSummaryOut]
    next_cursor: str | None


class ProblemOut(Schema):
    field: str
    code: str
    message: str
    details: dict[str, Any] = {}


class CheckOut(Schema):
    ok: bool
    problems: list[ProblemOut]


class NameReasonOut(Schema):
    code: str
    message: str


class NameCheckOut(Schema):
    name: str
    acceptable: bool
    reasons: list[NameReasonOut]


class PolicyOut(Schema):
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


class VersionIn(Schema):
    version: int | None = Field(None, ge=1)


class ReasonIn(Schema):
    field: str = Field("", max_length=60)
    reason: str = Field(min_length=1, max_length=1000)


class ReasonsIn(VersionIn):
    reasons: list[ReasonIn] = Field(default_factory=list, max_length=50)


class GroupFilingIn(Schema):
    kind: Literal["change", "renewal", "deregistration"]
    statement: str = Field("", max_length=2000)


class ListingOut(Schema):
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


class OrgOut(Schema):
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


class OrgDetailOut(OrgOut):
    address: str
    activity_area: str
    purpose: str
    guiding_unit: str
    party_members: int
    party_org: bool
    party_in_charter: bool
    founders_masked: list[str]
    annual_report_years: list[int]
    credit_listings: list[ListingOut]


class OrgPage(Schema):
    items: list[OrgOut]
    next_cursor: str | None


class AnnualReportIn(Schema):
    year: int = Field(ge=2000, le=2100)
    member_count: int = Field(ge=0, le=1000000)
    activities_held: int = Field(ge=0, le=100000)
    summary: str = Field(min_length=1, max_length=5000)


class AnnualReportOut(Schema):
    id: int
    year: int
    member_count: int
    activities_held: int
    summary: str
    submitted_at: datetime


class RevokeIn(Schema):
    reasons: list[ReasonIn] = Field(default_factory=list, max_length=50)


class ListingIn(Schema):
    list_kind: Literal["abnormal", "serious"] = "abnormal"
    reason_code: Literal["unreachable", "other"]
    reason: str = Field(min_length=1, max_length=1000)
    basis: str = Field("", max_length=1000)
    fix_required: bool = True


class ListingRemoveIn(Schema):
    reason: str = Field(min_length=1, max_length=1000)
    basis: str = Field("", max_length=1000)


# --- shaping ------------------------------------------------------------------------------------


def _summary(filing: Filing) -> dict[str, Any]:
    return {
        "id": filing.pk,
        "kind": filing.kind,
        "status": filing.status,
        "status_label": filing.get_status_display(),
        "version": filing.version,
        "name": filing.name,
        "category": filing.category,
        "community": filing.community_id,
        "community_name": filing.community.name,
        "group_id": filing.group_id,
        "submitted_at": filing.submitted_at,
        "accepted_on": filing.accepted_on,
        "due_date": filing.due_date,
        "clock_paused": filing.paused_days_left is not None,
        "paused_days_left": filing.paused_days_left,
        "overdue": selectors.filing_is_overdue(filing),
        "reasons": filing.reasons or [],
        "created_at": filing.created_at,
        "updated_at": filing.updated_at,
    }


def _attachment(filing: Filing, a) -> dict[str, Any]:
    base = f"/api/v1/filings/{filing.pk}/attachments/{a.pk}/file"
    return {
        "id": a.pk,
        "kind": a.kind,
        "content_type": a.content_type,
        "size": a.size,
        "width": a.width,
        "height": a.height,
        "url": base,
        "thumbnail_url": f"{base}?thumbnail=true" if a.thumbnail else None,
        "created_at": a.created_at,
    }


def _detail(filing: Filing, persons: list[dict[str, Any]]) -> dict[str, Any]:
    group = filing.group
    return {
        **_summary(filing),
        "address": filing.address,
        "activity_area": filing.activity_area,
        "purpose": filing.purpose,
        "guiding_unit": filing.guiding_unit,
        "rep_name": filing.rep_name,
        "party_members": filing.party_members,
        "party_org": filing.party_org,
        "party_in_charter": filing.party_in_charter,
        "statement": filing.statement,
        "reviewing_division_code": filing.reviewing_division_code,
        "filing_number": group.filing_number if group else None,
        "valid_until": group.valid_until if group else None,
        "persons": persons,
        "attachments": [_attachment(filing, a) for a in selectors.filing_attachments(filing)],
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reasons": e.reasons,
                "note": e.note,
                "actor_name": e.actor.display_name if e.actor else "系统",
            }
            for e in selectors.filing_history(filing)
        ],
    }


def _masked_person(p) -> dict[str, Any]:
    return {
        "position": p.position,
        "name": p.name,
        "role": p.role,
        "id_number_masked": p.id_masked,
        "phone_masked": mask_phone(p.phone),
    }


def _rep_detail(filing: Filing) -> dict[str, Any]:
    return _detail(filing, [_masked_person(p) for p in selectors.filing_persons(filing)])


def _listing(listing: CreditListing) -> dict[str, Any]:
    return {
        "id": listing.pk,
        "list_kind": listing.list_kind,
        "list_label": listing.get_list_kind_display(),
        "reason_code": listing.reason_code,
        "reason": listing.reason,
        "basis": listing.basis,
        "related_year": listing.related_year,
        "listed_on": listing.listed_on,
        "fixed_on": listing.fixed_on,
        "removal_due": listing.removal_due,
        "removed_on": listing.removed_on,
        "removal_reason": listing.removal_reason,
    }


def _org(group: Group) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "category": group.category,
        "community": group.community_id,
        "community_name": group.community.name,
        "filing_number": group.filing_number,
        "issuing_division_code": group.issuing_division_code,
        "status": group.status,
        "status_label": group.get_status_display(),
        "filed_on": group.filed_on,
        "valid_until": group.valid_until,
        "rep_name_masked": mask_name(group.rep_name),
        "on_abnormal_list": bool(getattr(group, "on_abnormal_list", False)),
        "on_serious_list": bool(getattr(group, "on_serious_list", False)),
    }


def _filing_or_404(filing_id: int) -> Filing:
    filing = selectors.filing_get(filing_id=filing_id)
    if filing is None:
        raise NotFound()
    return filing


def _group_or_404(group_id: int) -> Group:
    group = selectors.group_get(group_id=group_id)
    if group is None:
        raise NotFound()
    return group


def _org_detail(group: Group) -> dict[str, Any]:
    return {
        **_org(group),
        "address": group.address,
        "activity_area": group.activity_area,
        "purpose": group.purpose,
        "guiding_unit": group.guiding_unit,
        "party_members": group.party_members,
        "party_org": group.party_org,
        "party_in_charter": group.party_in_charter,
        "founders_masked": [mask_name(p.name) for p in selectors.group_founders(group)],
        "annual_report_years": sorted(group.annual_reports.values_list("year", flat=True)),
        "credit_listings": [_listing(x) for x in selectors.group_listings(group)],
    }


# --- public: name check, policy, directory -----------------------------------------------------


@router.get("/filings/name-check", response={200: NameCheckOut, **ERRORS}, auth=None, throttle=[_throttle()])
def name_check(request, name: str, division: str):
    """名称预核准: whether a proposed name can be filed in the community ``division``, with reasons."""
    if not division.isdigit() or len(division) not in (9, 12):
        raise ValidationFailed(
            errors=[field_error("division", "invalid_division", T("区划代码无效。", "Invalid division."))]
        )
    problems = selectors.name_check(name=name[:200], division_code=division)
    return {
        "name": name,
        "acceptable": not problems,
        "reasons": localize([p.as_dict() for p in problems], request_lang(request)),
    }


@router.get("/filings/policy", response={200: PolicyOut, **ERRORS}, auth=None, throttle=[_throttle()])
def policy(request, division: str):
    """The filing policy in force for a division (inherited down the tree)."""
    if not division.isdigit() or len(division) not in (2, 4, 6, 9, 12):
        raise ValidationFailed(
            errors=[field_error("division", "invalid_division", T("区划代码无效。", "Invalid division."))]
        )
    p = selectors.filing_policy_effective(division_code=division)
    return {**p.__dict__, "reviewing_division_code": p.reviewing_division_code()}


@router.get("/orgs", response={200: OrgPage, **ERRORS}, auth=None, throttle=[_throttle()])
def org_directory(
    request,
    q: str = "",
    division: str = "",
    category: str = "",
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    """The public directory of filed groups; names of people are masked."""
    if category and category not in Category.values:
        raise ValidationFailed(
            errors=[field_error("category", "invalid_choice", T("不是允许的选项。", "Not allowed."))]
        )
    items, next_cursor = selectors.group_directory(
        q=q.strip()[:50],
        division=division.strip()[:12],
        category=category,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_org(g) for g in items], "next_cursor": next_cursor}


@router.get("/orgs/mine", response={200: list[OrgOut], **ERRORS})
def org_mine(request):
    """Groups the signed-in user represents."""
    return [_org(g) for g in selectors.group_list_for_rep(user=request.auth)]


@router.get("/orgs/{group_id}", response={200: OrgDetailOut, **ERRORS}, auth=None, throttle=[_throttle()])
def org_detail(request, group_id: int):
    return _org_detail(_group_or_404(group_id))


# --- the representative ------------------------------------------------------------------------


@router.post("/filings", response={201: FilingOut, **ERRORS})
def filing_create(request, payload: FilingIn):
    """Start a draft filing of a new community group."""
    data = payload.model_dump()
    filing = services.filing_create(actor=request.auth, data=data)
    return Status(201, _rep_detail(_filing_or_404(filing.pk)))


@router.get("/filings", response={200: FilingPage, **ERRORS})
def filing_list(request, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    """The signed-in representative's filings, newest first."""
    items, next_cursor = selectors.filing_list_for_rep(user=request.auth, cursor=cursor, limit=limit)
    return {"items": [_summary(f) for f in items], "next_cursor": next_cursor}


@router.get("/filings/{filing_id}", response={200: FilingOut, **ERRORS})
def filing_detail(request, filing_id: int):
    """Status, due date, reasons and the full history; the roster masked."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.view", filing)
    return _rep_detail(filing)


@router.patch("/filings/{filing_id}", response={200: FilingOut, **ERRORS})
def filing_update(request, filing_id: int, payload: FilingPatch):
    """Change a draft or a filing waiting for corrections; ``persons`` replaces the roster."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    data = {
        k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "persons"
    }
    services.filing_update(filing=filing, actor=request.auth, data=data)
    return _rep_detail(_filing_or_404(filing_id))


@router.get("/filings/{filing_id}/check", response={200: CheckOut, **ERRORS})
def filing_check(request, filing_id: int):
    """What submission would refuse, without submitting."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    problems = localize(selectors.filing_check(filing=filing), request_lang(request))
    shaped = [
        {
            "field": p["field"],
            "code": p["code"],
            "message": p.get("message", ""),
            "details": {k: v for k, v in p.items() if k not in ("field", "code", "message")},
        }
        for p in problems
    ]
    return {"ok": not shaped, "problems": shaped}


@router.post("/filings/{filing_id}/attachments", response={201: AttachmentOut, **ERRORS})
def attachment_add(request, filing_id: int, kind: Form[AttachmentKindName], file: File[UploadedFile]):
    """Upload a photo (JPEG/PNG/WebP/GIF) or PDF of a document: the type is read from the bytes,
    size and pixels are bounded, EXIF (GPS) is stripped and a thumbnail made."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    content = file.read(conf.attachment_max_bytes() + 1)
    attachment = services.filing_attachment_add(
        filing=filing, actor=request.auth, kind=kind, content=content, filename=file.name or ""
    )
    return Status(201, _attachment(filing, attachment))


@router.delete("/filings/{filing_id}/attachments/{attachment_id}", response={200: OkOut, **ERRORS})
def attachment_remove(request, filing_id: int, attachment_id: int):
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    services.filing_attachment_remove(filing=filing, actor=request.auth, attachment_id=attachment_id)
    return {"ok": True}


@router.get(
    "/filings/{filing_id}/attachments/{attachment_id}/file", auth=bearer, response={200: None, **ERRORS}
)
def attachment_file(request, filing_id: int, attachment_id: int, thumbnail: bool = False):
    """The stored (cleaned) file, for the representative and the reviewers only."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.view", filing)
    attachment = filing.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    path = attachment.thumbnail if thumbnail and attachment.thumbnail else attachment.file
    response = FileResponse(default_storage.open(path, "rb"), content_type=attachment.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/filings/{filing_id}/submit", response={200: FilingOut, **ERRORS})
def filing_submit(request, filing_id: int):
    """Check everything and submit; 422 ``filing_incomplete`` lists every problem with field and code."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    services.filing_submit(filing=filing, actor=request.auth)
    return _rep_detail(_filing_or_404(filing_id))


@router.post("/filings/{filing_id}/withdraw", response={200: FilingOut, **ERRORS})
def filing_withdraw(request, filing_id: int):
    """Withdraw before a decision."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.edit", filing)
    services.filing_withdraw(filing=filing, actor=request.auth)
    return _rep_detail(_filing_or_404(filing_id))


# --- reviewers ---------------------------------------------------------------------------------


def _review_detail(filing: Filing, actor) -> dict[str, Any]:
    rows = services.filing_roster_reveal(filing=filing, actor=actor)
    persons = [r.__dict__ for r in rows]
    return {**_detail(filing, persons), "rep_phone": filing.rep.phone}


@router.get("/review/filings", response={200: FilingPage, **ERRORS})
def review_list(
    request,
    status: str | None = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    """Filings of the reviewer's jurisdiction; ``overdue=true`` for those past their due date."""
    if status and status not in Filing.Status.values:
        raise ValidationFailed(
            errors=[field_error("status", "invalid_choice", T("不是允许的选项。", "Not allowed."))]
        )
    items, next_cursor = selectors.filing_review_list(
        user=request.auth, status=status, overdue=overdue, cursor=cursor, limit=limit
    )
    return {"items": [_summary(f) for f in items], "next_cursor": next_cursor}


@router.get("/review/filings/{filing_id}", response={200: ReviewFilingOut, **ERRORS})
def review_detail(request, filing_id: int):
    """The filing with its full roster (ID numbers and phones); the read is audited."""
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.review", filing)
    return _review_detail(filing, request.auth)


def _decide(request, filing_id: int, decide) -> dict[str, Any]:
    filing = _filing_or_404(filing_id)
    authorize(request.auth, "filing.review", filing)
    decide(filing)
    fresh = _filing_or_404(filing_id)
    return _review_detail(fresh, request.auth)


@router.post("/review/filings/{filing_id}/accept", response={200: ReviewFilingOut, **ERRORS})
def review_accept(request, filing_id: int, version: int | None = Query(None, ge=1)):
    """受理: the clock starts; the due date counts the policy's (working) days. ``?version=`` makes
    the decision conditional on the version the reviewer saw."""
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_accept(filing=f, actor=request.auth, expected_version=version),
    )


@router.post("/review/filings/{filing_id}/request-correction", response={200: ReviewFilingOut, **ERRORS})
def review_request_correction(request, filing_id: int, payload: ReasonsIn):
    """Ask for corrections, one reason per field; the clock pauses until the resubmission."""
    reasons = [r.model_dump() for r in payload.reasons]
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_request_correction(
            filing=f, actor=request.auth, reasons=reasons, expected_version=payload.version
        ),
    )


@router.post("/review/filings/{filing_id}/approve", response={200: ReviewFilingOut, **ERRORS})
def review_approve(request, filing_id: int, version: int | None = Query(None, ge=1)):
    """Approve: issues the filing number (unique per issuing division) and the valid-until date."""
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_approve(filing=f, actor=request.auth, expected_version=version),
    )


@router.post("/review/filings/{filing_id}/reject", response={200: ReviewFilingOut, **ERRORS})
def review_reject(request, filing_id: int, payload: ReasonsIn):
    """Refuse in writing; reasons are required."""
    reasons = [r.model_dump() for r in payload.reasons]
    return _decide(
        request,
        filing_id,
        lambda f: services.filing_reject(
            filing=f, actor=request.auth, reasons=reasons, expected_version=payload.version
        ),
    )


# --- groups after approval ---------------------------------------------------------------------


@router.post("/orgs/{group_id}/filings", response={201: FilingOut, **ERRORS})
def org_filing_create(request, group_id: int, payload: GroupFilingIn):
    """Start a change, renewal or deregistration (注销) filing; it goes through the same review."""
    group = _group_or_404(group_id)
    authorize(request.auth, "org.manage", group, hide=False)
    filing = services.group_filing_create(
        group=group, actor=request.auth, kind=payload.kind, statement=payload.statement
    )
    return Status(201, _rep_detail(_filing_or_404(filing.pk)))


@router.post("/orgs/{group_id}/annual-reports", response={201: AnnualReportOut, **ERRORS})
def annual_report_create(request, group_id: int, payload: AnnualReportIn):
    """The annual report for a finished year; a late one starts removal from the abnormal list."""
    group = _group_or_404(group_id)
    authorize(request.auth, "org.manage", group, hide=False)
    report = services.annual_report_submit(group=group, actor=request.auth, **payload.model_dump())
    return Status(201, report)


@router.get("/orgs/{group_id}/annual-reports", response={200: list[AnnualReportOut], **ERRORS})
def annual_report_list(request, group_id: int):
    group = _group_or_404(group_id)
    if not (can(request.auth, "org.manage", group) or can(request.auth, "org.review", group)):
        authorize(request.auth, "org.manage", group, hide=False)
    return list(group.annual_reports.order_by("-year"))


@router.post("/review/orgs/{group_id}/revoke", response={200: OrgDetailOut, **ERRORS})
def org_revoke(request, group_id: int, payload: RevokeIn):
    """撤销 a group's filing, with reasons."""
    group = _group_or_404(group_id)
    authorize(request.auth, "org.review", group, hide=False)
    services.group_revoke(group=group, actor=request.auth, reasons=[r.model_dump() for r in payload.reasons])
    return _org_detail(_group_or_404(group_id))


@router.post("/review/orgs/{group_id}/credit-listings", response={201: ListingOut, **ERRORS})
def listing_create(request, group_id: int, payload: ListingIn):
    """List a group by hand (e.g. unreachable at its address), with reason and basis."""
    group = _group_or_404(group_id)
    authorize(request.auth, "org.review", group, hide=False)
    listing = services.credit_listing_create(group=group, actor=request.auth, **payload.model_dump())
    if listing is None:  # only a dedupe key or an inactive group without an actor gives None
        raise NotFound()
    return Status(201, _listing(listing))


@router.post("/review/credit-listings/{listing_id}/remove", response={200: ListingOut, **ERRORS})
def listing_remove(request, listing_id: int, payload: ListingRemoveIn):
    """Remove a listing once the duty is met (the dated row stays)."""
    listing = selectors.listing_get(listing_id=listing_id)
    if listing is None:
        raise NotFound()
    authorize(request.auth, "listing.review", listing, hide=False)
    listing = services.credit_listing_remove(listing=listing, actor=request.auth, **payload.model_dump())
    return _listing(listing)
