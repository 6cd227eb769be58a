"""Schemas of teams, place transfers, bulk decisions, self check-in and guardian consent (split
from ``schemas.py`` to keep modules readable; names stay unique across the API)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from backend.core.masking import mask_name
from backend.volunteers import conf as volunteer_conf
from backend.volunteers import selectors

# --- teams --------------------------------------------------------------------------------------


class VolunteerTeamIn(Schema):
    name: str = Field(min_length=1, max_length=50)


class VolunteerTeamInviteIn(Schema):
    volunteer_no: str = Field(min_length=1, max_length=20)


class VolunteerTeamRespondIn(Schema):
    accept: bool


class VolunteerTeamMemberOut(Schema):
    user_id: int
    volunteer_no: str
    name_masked: str
    status: str
    invited_at: datetime
    responded_at: datetime | None

    @staticmethod
    def resolve_volunteer_no(obj: Any) -> str:
        return selectors.volunteer_shown(obj.user).volunteer_no

    @staticmethod
    def resolve_name_masked(obj: Any) -> str:
        return selectors.volunteer_shown(obj.user).name_masked


class VolunteerTeamOut(Schema):
    id: int
    name: str
    leader_id: int
    created_at: datetime
    members: list[VolunteerTeamMemberOut]

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return list(obj.members.all())


class VolunteerTeamListOut(Schema):
    items: list[VolunteerTeamOut]


class TeamSignupIn(Schema):
    team_id: int
    user_ids: list[int] | None = Field(
        None, max_length=50, description="Members to sign up; all active members when omitted."
    )
    mode: Literal["all", "partial"] = "all"
    waitlist: bool = Field(False, description="Whether a member may be waitlisted when places run out.")


class TeamSignupResultOut(Schema):
    user_id: int
    ok: bool
    signup_id: int | None = None
    status: str | None = None
    code: str | None = None
    details: dict[str, Any] | None = None


class TeamSignupOut(Schema):
    results: list[TeamSignupResultOut]


# --- place transfers ----------------------------------------------------------------------------


class SignupTransferIn(Schema):
    volunteer_no: str = Field(min_length=1, max_length=20, description="The receiver's volunteer number.")


class SignupTransferOut(Schema):
    id: int
    status: Literal["offered", "accepted", "declined", "withdrawn", "expired"]
    signup_id: int
    shift_id: int = Field(alias="signup.shift_id")
    activity_title: str = Field(alias="signup.shift.activity.title")
    starts_at: datetime = Field(alias="signup.shift.starts_at")
    from_user_id: int
    from_name_masked: str
    to_user_id: int
    to_name_masked: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    new_signup_id: int | None

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return selectors.transfer_status_shown(obj)

    @staticmethod
    def resolve_from_name_masked(obj: Any) -> str:
        return selectors.volunteer_shown(obj.from_user).name_masked

    @staticmethod
    def resolve_to_name_masked(obj: Any) -> str:
        return selectors.volunteer_shown(obj.to_user).name_masked


class SignupTransferListOut(Schema):
    items: list[SignupTransferOut]


# --- bulk decisions -----------------------------------------------------------------------------


class VolunteerRecordBulkDecisionIn(Schema):
    record_ids: list[int] = Field(min_length=1, max_length=200)
    decision: Literal["approve", "reject"]
    evaluation: str = Field("", max_length=2000)
    reason: str = Field("", max_length=2000, description="Required to reject.")


class VolunteerRecordDecisionResultOut(Schema):
    record_id: int
    ok: bool
    status: str | None = None
    code: str | None = None


class VolunteerRecordBulkDecisionOut(Schema):
    results: list[VolunteerRecordDecisionResultOut]


# --- self check-in ------------------------------------------------------------------------------


class SelfCheckinQrOut(Schema):
    payload: str = Field(description="Show as a QR code; changes every rotates_every seconds.")
    expires_at: datetime
    rotates_every: int


class SelfCheckinIn(Schema):
    payload: str = Field(min_length=1, max_length=100, description="The scanned QR text.")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    coord: Literal["wgs84", "gcj02"] = Field("gcj02", description="wx.getLocation type gcj02 by default.")
    kind: Literal["in", "out"] = "in"


class SelfCheckinOut(Schema):
    id: int
    kind: str
    result: str
    at: datetime
    distance_m: int | None
    record_id: int | None
    hours: Decimal | None

    @staticmethod
    def resolve_hours(obj: Any) -> Decimal | None:
        return obj.record.hours if obj.record_id else None


# --- guardian consent ---------------------------------------------------------------------------


class GuardianConsentIn(Schema):
    version: str = Field(min_length=1, max_length=20, description="The text version the guardian read.")


def _guardian_consent(profile: Any) -> Any:
    """The standing consent the guardian gave themselves (consents prefetched)."""
    return next(
        (
            c
            for c in profile.consents.all()
            if c.kind == "guardian" and c.withdrawn_at is None and c.given_by_id
        ),
        None,
    )


class GuardianRequestOut(Schema):
    profile_id: int
    minor_name_masked: str
    relation: str
    current_version: str
    consent_version: str | None
    consent_given_at: datetime | None

    @staticmethod
    def resolve_profile_id(obj: Any) -> int:
        return obj.pk

    @staticmethod
    def resolve_minor_name_masked(obj: Any) -> str:
        return mask_name(obj.real_name)

    @staticmethod
    def resolve_relation(obj: Any) -> str:
        return obj.guardian_relation

    @staticmethod
    def resolve_current_version(obj: Any) -> str:
        return volunteer_conf.guardian_consent_version()

    @staticmethod
    def _standing(obj: Any) -> Any:
        return next(
            (
                c
                for c in obj.consents.all()
                if c.kind == "guardian" and c.withdrawn_at is None and c.given_by_id
            ),
            None,
        )

    @staticmethod
    def resolve_consent_version(obj: Any) -> str | None:
        consent = _guardian_consent(obj)
        return consent.version if consent else None

    @staticmethod
    def resolve_consent_given_at(obj: Any) -> datetime | None:
        consent = _guardian_consent(obj)
        return consent.accepted_at if consent else None


class GuardianRequestListOut(Schema):
    items: list[GuardianRequestOut]
