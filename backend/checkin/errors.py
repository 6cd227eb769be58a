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


class BundleCursorInvalid(ValidationFailed):
    code = "invalid_cursor"
    message = T("同步游标无效。", "This sync cursor is not valid for the event.")


class BundleCursorExpired(DomainError):
    """The cursor is unknown (ahead of the event) or too far behind: fetch the full bundle."""

    code = "cursor_expired"
    status = 410
    message = T(
        "同步游标已过期，请重新下载完整数据包。", "The sync cursor has expired: fetch the full bundle."
    )


class UnknownDevice(ValidationFailed):
    code = "unknown_device"
    message = T("该设备未在此活动登记。", "This device is not registered for the event.")


class DeviceRevoked(DomainError):
    code = "device_revoked"
    status = 403
    message = T("该设备已被停用。", "This device has been revoked.")


class UnknownNonce(NotFound):
    code = "unknown_nonce"
    message = T("没有该核验记录。", "No scan with this nonce.")


class NotAnnullable(Conflict):
    code = "not_annullable"
    message = T("只有通过的入场或离场记录可以撤销。", "Only an admitted entry or exit can be annulled.")


class AlreadyAnnulled(Conflict):
    code = "already_annulled"
    message = T("该核验记录已撤销。", "This scan has already been annulled.")


class AnnulNotLatest(Conflict):
    code = "annul_not_latest"
    message = T(
        "须先撤销该凭证之后的核验记录。",
        "Annul this pass's later scans first: only its latest scan can be annulled.",
    )


class AnnulTooLate(Conflict):
    code = "annul_too_late"
    message = T("撤销时限已过，请联系协调员。", "Too late to annul from the device: ask a coordinator.")


class AnnulNotAllowed(DomainError):
    code = "annul_not_allowed"
    status = 403
    message = T(
        "只有扫描该记录的设备或协调员可以撤销。",
        "Only the device that scanned it or a coordinator can annul it.",
    )


class NonceReused(Conflict):
    """A nonce already recorded for another pass (or the other kind of scan): never answered with
    that scan's result, never recorded (the nonce names one row). The scanner scans again with a
    new nonce."""

    code = "nonce_reused"
    message = T(
        "该扫码编号已用于另一次扫码（另一张凭证），请重新扫码。",
        "This nonce was already used for another scan (another pass): scan again with a new nonce.",
    )
