"""Domain errors of event check-in. Refused scans are not errors: they are recorded rows with a
reason code (see ``backend.checkin.models.Reason``)."""

from __future__ import annotations

from backend.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from backend.core.i18n import T


class EventNotFound(NotFound):
    code = "not_found"
    message = T("找不到该活动。", "Event not found.")


class InvalidEventTimes(ValidationFailed):
    code = "invalid_event_times"
    message = T("活动时间或签到时段不正确。", "The event times or check-in window are not valid.")


class InvalidRedeem(ValidationFailed):
    code = "invalid_message"
    message = T("核验消息格式不正确。", "The redeem message is malformed.")


class PassVoided(Conflict):
    code = "pass_voided"
    message = T("该凭证已作废。", "This pass has been voided.")


class ShiftNotOfOrganisation(ValidationFailed):
    code = "shift_not_of_organisation"
    message = T("只能关联本组织的班次。", "Only shifts of the event's organisation can be linked.")


class UploadTooLarge(DomainError):
    code = "upload_too_large"
    status = 413
    message = T("一次上传的核验记录过多。", "Too many redeems in one upload.")


class ListNotOfEvent(ValidationFailed):
    code = "unknown_list"
    message = T("该核验清单不属于此活动。", "This check-in list does not belong to the event.")


class NonceReused(Conflict):
    """A nonce already recorded for another pass (or the other kind of scan): never answered with
    that scan's result, never recorded (the nonce names one row). The scanner scans again with a
    new nonce."""

    code = "nonce_reused"
    message = T(
        "该扫码编号已用于另一次扫码（另一张凭证），请重新扫码。",
        "This nonce was already used for another scan (another pass): scan again with a new nonce.",
    )
