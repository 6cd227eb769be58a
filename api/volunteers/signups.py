"""Sign-ups: ``/shifts/{id}/signups``, ``/signups/{id}…`` and ``/me/signups``."""

from __future__ import annotations

from ninja import Router, Status

from api.schemas import ERRORS, cursor_param
from api.volunteers.fastpath import GATE_EXPECT, GATE_READ
from api.volunteers.schemas import (
    ShiftRosterPage,
    SignupAttendanceIn,
    SignupOut,
    SignupPage,
    VolunteerRecordOut,
)
from backend.volunteers import selectors, services
from backend.volunteers.permissions import Action, shift_access, signup_access

router = Router()


@router.post("/shifts/{shift_id}/signups", response={201: SignupOut, **ERRORS})
def signup_create(request, shift_id: int):
    """Sign up: ``confirmed`` while places last, then ``waitlisted``; 409 ``shift_full`` after."""
    scope = getattr(request, "scope", {})
    gate_read = scope.get(GATE_READ) == shift_id
    expect = scope.get(GATE_EXPECT) if gate_read else None
    signup = services.shift_signup_create(
        shift_id=shift_id, user=request.auth, gate_read=gate_read, expect=expect
    )
    return Status(201, SignupOut.of(signup))


@router.get("/shifts/{shift_id}/signups", response={200: ShiftRosterPage, **ERRORS})
def shift_roster(request, shift_id: int, cursor: str | None = cursor_param(), limit: int = 100):
    """The coordinator's roster, masked."""
    shift = shift_access(user=request.auth, shift_id=shift_id, action=Action.SHIFT_ROSTER)
    return selectors.shift_roster(shift=shift, cursor=cursor, limit=limit)


@router.delete("/signups/{signup_id}", response={200: SignupOut, **ERRORS})
def signup_cancel(request, signup_id: int):
    """Cancel; after the cancellation deadline it counts as ``cancelled_late``."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.SIGNUP_CANCEL)
    return services.signup_cancel(signup=signup, by=request.auth)


@router.post("/signups/{signup_id}/confirm", response={200: SignupOut, **ERRORS})
def signup_confirm(request, signup_id: int):
    """A promoted waitlister confirms before ``confirm_by``."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.SIGNUP_CANCEL)
    return services.signup_confirm(signup=signup, by=request.auth)


@router.post("/signups/{signup_id}/no-show", response={200: SignupOut, **ERRORS})
def signup_no_show(request, signup_id: int):
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.ATTENDANCE_RECORD)
    return services.signup_mark_no_show(signup=signup, by=request.auth)


@router.post("/signups/{signup_id}/attendance", response={201: VolunteerRecordOut, **ERRORS})
def signup_attendance(request, signup_id: int, payload: SignupAttendanceIn):
    """The coordinator records check-in and check-out; the service record comes back."""
    signup = signup_access(user=request.auth, signup_id=signup_id, action=Action.ATTENDANCE_RECORD)
    record = services.attendance_record(
        signup=signup,
        checked_in_at=payload.checked_in_at,
        checked_out_at=payload.checked_out_at,
        recorder=request.auth,
        external_ref=f"attendance:{signup.pk}:{int(payload.checked_in_at.timestamp())}",
    )
    return Status(201, selectors.service_record_get(record_id=record.pk))


@router.get("/me/signups", response={200: SignupPage, **ERRORS})
def my_signups(request, status: str | None = None, cursor: str | None = cursor_param(), limit: int = 20):
    return selectors.my_signups(user=request.auth, status=status, cursor=cursor, limit=limit)
