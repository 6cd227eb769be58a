"""Domain errors of the volunteers domain (stable codes, bilingual messages)."""

from __future__ import annotations

from backend.core.errors import Conflict, DomainError, ValidationFailed
from backend.core.i18n import T


class ShiftFull(Conflict):
    code = "shift_full"
    message = T(
        "该班次已满，候补名额也已满或未开放候补。", "This shift is full and its waitlist is full or disabled."
    )


class AlreadySignedUp(Conflict):
    code = "already_signed_up"
    message = T("你已报名该班次。", "You have already signed up for this shift.")


class OverlappingShift(Conflict):
    code = "overlapping_shift"
    message = T(
        "该班次与你已报名的其他班次时间重叠。", "This shift overlaps another shift you signed up for."
    )


class SignupClosed(Conflict):
    code = "signup_closed"
    message = T("该班次当前不在报名时间内。", "Sign-up for this shift is not open.")


class RequirementsNotMet(Conflict):
    code = "requirements_not_met"
    message = T("你不满足该活动的报名条件。", "You do not meet this activity's requirements.")


class VolunteerBanned(Conflict):
    code = "volunteer_banned"
    message = T(
        "因多次缺席，你暂时不能报名。", "You cannot sign up for a while because of repeated no-shows."
    )


class ProfileRequired(Conflict):
    code = "profile_required"
    message = T("请先完成志愿者注册。", "Register as a volunteer first.")


class IdNumberTaken(Conflict):
    code = "id_number_taken"
    message = T("该身份证号已注册为志愿者。", "This ID number is already registered.")


class TooYoung(DomainError):
    code = "too_young"
    status = 422
    message = T("未达到志愿者注册的最低年龄。", "You are below the minimum age to register as a volunteer.")


class GuardianConsentRequired(ValidationFailed):
    code = "guardian_consent_required"
    message = T("未成年人注册需要监护人同意。", "A minor needs a guardian's consent to register.")


class ConsentRequired(ValidationFailed):
    code = "consent_required"
    message = T("请阅读并同意服务协议和个人信息处理规则。", "Accept the current terms and privacy notice.")


class ActivityNotInFuture(Conflict):
    code = "activity_not_in_future"
    message = T(
        "只能发布未来的活动，过去的服务请提交补录申请。",
        "Only future activities can be published; record past service through a backfill request.",
    )


class CancelNotAllowed(Conflict):
    code = "cancel_not_allowed"
    message = T("该报名已不能取消。", "This sign-up can no longer be cancelled.")


class NothingToCertify(Conflict):
    code = "nothing_to_certify"
    message = T("该组织没有你的有效服务记录。", "This organisation has no approved service of yours.")


class TeamSignupFailed(Conflict):
    """All-or-nothing team sign-up: a member could not get a place, so nobody was signed up.
    ``details.results`` lists each member's outcome (``code`` per member, as single sign-ups)."""

    code = "team_signup_failed"
    message = T(
        "部分队员无法报名，本次队伍报名未生效。", "Some members could not be signed up, so nobody was."
    )


class TransferExpired(Conflict):
    code = "transfer_expired"
    message = T("该名额转让已过期。", "This transfer offer has expired.")


class SelfCheckinRefused(Conflict):
    """A self check-in refused; ``code`` says why: ``outside_geofence``, ``outside_window``,
    ``qr_expired``, ``qr_invalid``, ``self_checkin_disabled``, ``not_signed_up``, ``not_checked_in``."""

    code = "self_checkin_refused"
    message = T("自助签到未成功。", "Self check-in refused.")


SELF_CHECKIN_MESSAGES = {
    "outside_geofence": T("你不在服务点签到范围内。", "You are outside the post's check-in area."),
    "outside_window": T("不在班次签到时间内。", "Outside the shift's check-in time."),
    "qr_expired": T(
        "二维码已过期，请扫描屏幕上最新的二维码。", "The QR code has expired; scan the current one."
    ),
    "qr_invalid": T("二维码无效。", "The QR code is not valid for this shift."),
    "self_checkin_disabled": T("该活动不支持自助签到。", "This activity does not use self check-in."),
    "not_signed_up": T("你没有该班次的确认名额。", "You hold no confirmed place on this shift."),
    "not_checked_in": T("请先签到再签退。", "Check in before checking out."),
}


class AttendanceInFuture(DomainError):
    code = "attendance_in_future"
    status = 422
    message = T(
        "签到或签退时间晚于当前时间，不能记录尚未发生的服务。",
        "Check-in or check-out is later than now: service that has not happened cannot be recorded.",
    )


class AttendanceOutsideShift(DomainError):
    code = "attendance_outside_shift"
    status = 422
    message = T(
        "签到或签退时间不在班次时间内（含允许的提前和延后）。",
        "Check-in or check-out lies outside the shift (with the allowed tolerance).",
    )


class IdNumberCorrectionRequired(Conflict):
    code = "id_number_correction_required"
    message = T(
        "注册后更改身份证号须提交更正申请，经工作人员核验证件后生效。",
        "After registration a new ID number is a correction: request it, and staff confirm it after checking the card.",
    )


class IdCorrectionPending(Conflict):
    code = "id_correction_pending"
    message = T(
        "已有一个待确认的身份证号更正申请。", "An ID number correction is already waiting for confirmation."
    )


class IdNumberMismatch(Conflict):
    code = "id_number_mismatch"
    message = T(
        "核验的证件号码与申请更正的号码不一致。",
        "The number on the card checked does not match the correction requested.",
    )
