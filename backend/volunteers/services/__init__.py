"""Writes of the volunteers domain, one module per sub-domain; every public name is re-exported here,
so ``from backend.volunteers.services import x`` and ``services.x`` work as before.

- ``profiles``: registration (``volunteer_profile_save``)
- ``organisations``: organisations, their coordinators, service posts (U站)
- ``activities``: draft activities, publishing
- ``shifts``: shifts, capacity changes, reminders
- ``series``: weekly shift series and their occurrences
- ``signups``: sign-ups, cancellations, no-shows
- ``waitlist``: promotions from the waitlist, confirming them, letting them lapse
- ``hours``: service records, attendance, backfill requests, approvals
- ``teams``: teams, invitations, team sign-ups
- ``transfers``: offering a place to a named volunteer
- ``approvals``: approving or rejecting many records at once
- ``selfcheckin``: geofenced self check-in with the post's rotating QR
- ``guardians``: a minor's guardian consent, given by the guardian on their own phone
- ``certificates``: service certificates
- ``consents``: withdrawing a consent and what follows
- ``exports``: an organisation's records as Excel or CSV
- ``national_export``: volunteers and records in the national standard's field set
- ``calendar``: the volunteer's private calendar feed address
- ``id_corrections``: correcting a registered ID number (requested, confirmed by staff)
- ``_common``: private helpers the modules share

Contracts used by other domains (keep names and keyword arguments):

``service_record_create(*, user, organisation, source, started_at, ended_at, place, content,
activity=None, shift=None, recipients="", lead=None, recorder=None, external_ref, signup=None)``
    Idempotent by ``external_ref`` (unique; a repeat returns the first record unchanged). Hours
    = whole minutes between start and end, rounded by ``conf.rounding_rule``. ``source`` is
    "checkin" | "patrol" | "coordinator" | "backfill". Backfilled hours (补录) are kept apart
    (``kind="backfilled"``) and always wait for approval (``status="pending"``). For recorded
    hours (信用时数) the per-day rules apply: the 4th check-in/out pair of a day is kept with
    ``status="refused"`` and 0 hours; the day's total up to 8 h is ``valid``, up to 12 h
    ``pending`` (organisation approves), above ``escalated``. Never raises for those rules, so
    a check-out never fails because of them.

``attendance_record(*, signup, checked_in_at, checked_out_at, recorder=None, external_ref,
source="coordinator")``
    Hours = the time inside the shift between check-in and check-out; marks the sign-up
    ``attended`` (listeners hear about it) and returns the ServiceRecord (idempotent as above).
    Event check-in passes ``source="checkin"``.

``attendance_withdraw(*, external_ref, by=None, reason)``
    The attendance under ``external_ref`` did not happen (its check-in was annulled): the record
    is rejected with ``reason`` and renamed out of the way; a sign-up left without other
    attendance goes back from ``attended`` to ``confirmed``.

Every change of a sign-up's status calls ``hooks.signup_changed(signup)`` inside the
transaction (see ``backend/volunteers/hooks.py``).
"""

from backend.volunteers.models import ID_INDEX_PURPOSE, ID_PURPOSE
from backend.volunteers.services.activities import activity_create, activity_publish
from backend.volunteers.services.approvals import service_records_decide_bulk
from backend.volunteers.services.calendar import calendar_feed_ensure, calendar_feed_renew
from backend.volunteers.services.certificates import (
    certificate_issue,
    certificate_request,
    certificate_revoke,
)
from backend.volunteers.services.consents import consent_withdraw
from backend.volunteers.services.exports import RecordsExport, service_records_export
from backend.volunteers.services.guardians import (
    guardian_consent_give,
    guardian_consent_withdraw,
    guardian_profile,
)
from backend.volunteers.services.hours import (
    SOURCES,
    attendance_record,
    attendance_withdraw,
    backfill_request_create,
    backfill_request_submit,
    service_record_create,
    service_record_decide,
)
from backend.volunteers.services.id_corrections import (
    id_correction_confirm,
    id_correction_reject,
    id_correction_request,
)
from backend.volunteers.services.national_export import national_export
from backend.volunteers.services.organisations import (
    organisation_coordinator_add,
    organisation_coordinator_add_by_phone,
    organisation_create,
    service_post_create,
)
from backend.volunteers.services.profiles import volunteer_profile_save
from backend.volunteers.services.selfcheckin import checkin_qr, self_checkin_record, self_checkins_close
from backend.volunteers.services.series import shift_series_create, shift_series_extend, shift_series_generate
from backend.volunteers.services.shifts import shift_capacity_set, shift_create, shift_reminders_send
from backend.volunteers.services.signups import shift_signup_create, signup_cancel, signup_mark_no_show
from backend.volunteers.services.teams import (
    team_create,
    team_invite,
    team_leave,
    team_membership_respond,
    team_shift_signup,
)
from backend.volunteers.services.transfers import (
    signup_transfer_accept,
    signup_transfer_close,
    signup_transfer_offer,
)
from backend.volunteers.services.waitlist import signup_confirm, signup_promotions_expire

__all__ = [
    "ID_INDEX_PURPOSE",
    "ID_PURPOSE",
    "SOURCES",
    "RecordsExport",
    "activity_create",
    "activity_publish",
    "attendance_record",
    "attendance_withdraw",
    "backfill_request_create",
    "backfill_request_submit",
    "calendar_feed_ensure",
    "calendar_feed_renew",
    "certificate_issue",
    "certificate_request",
    "certificate_revoke",
    "checkin_qr",
    "consent_withdraw",
    "guardian_consent_give",
    "guardian_consent_withdraw",
    "guardian_profile",
    "id_correction_confirm",
    "id_correction_reject",
    "id_correction_request",
    "national_export",
    "organisation_coordinator_add",
    "organisation_coordinator_add_by_phone",
    "organisation_create",
    "self_checkin_record",
    "self_checkins_close",
    "service_post_create",
    "service_record_create",
    "service_record_decide",
    "service_records_decide_bulk",
    "service_records_export",
    "shift_capacity_set",
    "shift_create",
    "shift_reminders_send",
    "shift_series_create",
    "shift_series_extend",
    "shift_series_generate",
    "shift_signup_create",
    "signup_cancel",
    "signup_confirm",
    "signup_mark_no_show",
    "signup_promotions_expire",
    "signup_transfer_accept",
    "signup_transfer_close",
    "signup_transfer_offer",
    "team_create",
    "team_invite",
    "team_leave",
    "team_membership_respond",
    "team_shift_signup",
    "volunteer_profile_save",
]
