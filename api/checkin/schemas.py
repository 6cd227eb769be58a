"""Schemas of the check-in API. Every name starts with ``Checkin``: one OpenAPI component per
class across the whole API (filings has its own event schema)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from ninja import Field, Schema

from backend.checkin.models import CheckinList, Event, Pass
from backend.checkin.pass_images import pass_qr_url


class CheckinEventIn(Schema):
    organisation_id: int
    title: str = Field(..., min_length=1, max_length=200)
    venue: str = Field("", max_length=200)
    venue_post_id: int | None = None
    division_code: str = Field("", max_length=12)
    starts_at: datetime
    ends_at: datetime
    checkin_opens_at: datetime | None = None
    checkin_closes_at: datetime | None = None


class CheckinEventPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    venue: str | None = Field(None, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    checkin_opens_at: datetime | None = None
    checkin_closes_at: datetime | None = None


class CheckinEventOut(Schema):
    id: int
    organisation_id: int
    title: str
    venue: str
    venue_post_id: int | None
    division_code: str
    starts_at: datetime
    ends_at: datetime
    checkin_opens_at: datetime
    checkin_closes_at: datetime
    closed_at: datetime | None
    live_url: str
    scan_socket: str
    live_socket: str

    @staticmethod
    def resolve_live_url(obj: Event) -> str:
        return f"/events/{obj.pk}/live"

    @staticmethod
    def resolve_scan_socket(obj: Event) -> str:
        return f"/ws/v1/events/{obj.pk}/scan"

    @staticmethod
    def resolve_live_socket(obj: Event) -> str:
        return f"/ws/v1/events/{obj.pk}/live"


class CheckinEventPage(Schema):
    items: list[CheckinEventOut]
    next_cursor: str | None


class CheckinListIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    include_volunteers: bool = True
    include_attendees: bool = True
    shift_ids: list[int] = Field(default_factory=list, max_length=200)
    allow_multiple_entries: bool = False
    allow_entry_after_exit: bool = True
    # Daily local time (Asia/Shanghai, "HH:MM") at which everybody still inside is checked out.
    auto_checkout_at: time | None = None


class CheckinListPatch(Schema):
    auto_checkout_at: time | None


class CheckinListOut(Schema):
    id: int
    name: str
    include_volunteers: bool
    include_attendees: bool
    shift_ids: list[int]
    allow_multiple_entries: bool
    allow_entry_after_exit: bool
    checked_in: int
    inside: int
    auto_checkout_at: str | None
    auto_checked_out: int

    @staticmethod
    def resolve_auto_checkout_at(obj: CheckinList) -> str | None:
        return obj.auto_checkout_at.isoformat("minutes") if obj.auto_checkout_at else None

    @staticmethod
    def resolve_shift_ids(obj: CheckinList) -> list[int]:
        return sorted(s.pk for s in obj.shifts.all())


class CheckinShiftsIn(Schema):
    shift_ids: list[int] = Field(..., min_length=1, max_length=200)


class CheckinShiftsLinkedOut(Schema):
    linked: list[int]
    passes_issued: int


class CheckinStaffIn(Schema):
    user_id: int
    role: Literal["scanner", "coordinator"]


class CheckinStaffOut(Schema):
    """The role grant that made the user staff of the event."""

    grant_id: int
    user_id: int
    role: str

    @staticmethod
    def resolve_grant_id(obj: Any) -> int:
        return obj.pk


class CheckinAttendeeIn(Schema):
    holder_name: str = Field(..., min_length=1, max_length=50)
    holder_phone: str | None = Field(None, max_length=20)


class CheckinPassOut(Schema):
    """A pass as coordinators see it: masked name, never the secret."""

    id: int
    kind: str
    status: str
    name: str
    blocked: bool
    shift_id: int | None
    entered: bool
    inside: bool

    @staticmethod
    def resolve_name(obj: Pass) -> str:
        return obj.masked_name

    @staticmethod
    def resolve_entered(obj: Pass) -> bool:
        return obj.first_entry_at is not None

    @staticmethod
    def resolve_inside(obj: Pass) -> bool:
        return obj.inside_lists > 0


class CheckinPassPage(Schema):
    items: list[CheckinPassOut]
    next_cursor: str | None


class CheckinMyPassOut(Schema):
    """A pass as its holder sees it: with the secret and its QR code."""

    id: int
    event_id: int
    event_title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    kind: str
    secret: str
    qr_png: str
    qr_svg: str
    qr_signed_url: str = Field(
        description="The QR code (PNG) without an Authorization header, for the mini-program's "
        "`<image>`: valid for LINLI_SIGNED_URL_TTL seconds; ask again for a fresh one."
    )

    @staticmethod
    def resolve_event_title(obj: Pass) -> str:
        return obj.event.title

    @staticmethod
    def resolve_starts_at(obj: Pass) -> datetime:
        return obj.event.starts_at

    @staticmethod
    def resolve_ends_at(obj: Pass) -> datetime:
        return obj.event.ends_at

    @staticmethod
    def resolve_venue(obj: Pass) -> str:
        return obj.event.venue

    @staticmethod
    def resolve_qr_png(obj: Pass) -> str:
        return f"/api/v1/me/passes/{obj.pk}/qr.png"

    @staticmethod
    def resolve_qr_svg(obj: Pass) -> str:
        return f"/api/v1/me/passes/{obj.pk}/qr.svg"

    @staticmethod
    def resolve_qr_signed_url(obj: Pass) -> str:
        return pass_qr_url(obj)


class CheckinReasonIn(Schema):
    reason: str = Field("", max_length=200)


class CheckinUploadIn(Schema):
    device: str = Field("", max_length=64)
    device_id: int | None = Field(None, gt=0, description="A registered device: applies to items naming none")
    items: list[dict[str, Any]] = Field(..., min_length=1)


class CheckinAnnulIn(Schema):
    nonce: str = Field(..., min_length=1, max_length=64)
    reason: str = Field("", max_length=200)
    device_id: int | None = Field(None, gt=0, description="The registered device asking (scanners)")
    device: str = Field("", max_length=64)


class CheckinDeviceIn(Schema):
    name: str = Field(..., max_length=64)
    gate: str = Field(..., max_length=50)


class CheckinDeviceOut(Schema):
    id: int
    name: str
    gate: str
    created_at: datetime
    revoked_at: datetime | None


class CheckinUploadOut(Schema):
    results: list[dict[str, Any]]


class CheckinPage(Schema):
    """A page of the event's scans (or conflicts), as the live dashboard receives them."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class CheckinBundleEventOut(Schema):
    id: int
    title: str
    starts_at: str
    ends_at: str
    checkin_opens_at: str
    checkin_closes_at: str


class CheckinBundleListOut(Schema):
    id: int
    name: str
    include_volunteers: bool
    include_attendees: bool
    shifts: list[int]
    allow_multiple_entries: bool
    allow_entry_after_exit: bool


class CheckinBundlePassOut(Schema):
    """A valid pass as an offline scanner knows it: the token id inside its secret (hex), never
    the secret; the masked name; the lists that take it; whether it has entered."""

    id: str
    kind: str
    name: str
    blocked: bool
    lists: list[int]
    entered: bool


class CheckinOfflineBundleOut(Schema):
    """The offline bundle (``full``) or a delta since a cursor. ``seq`` is the event's scan
    number it is current to; ``cursor`` goes into the next ``?since=``."""

    event: CheckinBundleEventOut
    generated_at: str
    seq: int
    cursor: str
    full: bool
    keys: dict[str, Any]
    token_domain: str
    lists: list[CheckinBundleListOut]
    revoked: list[str]
    passes: list[CheckinBundlePassOut]
