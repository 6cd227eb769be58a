from backend.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from backend.core.i18n import T


class InvalidDeviceToken(ValidationFailed):
    code = "invalid_device_token"
    message = T("推送地址无效。", "The push token is not valid.")


class InvalidPreferences(ValidationFailed):
    code = "invalid_preferences"
    message = T("通知设置有误。", "The notification preferences are not valid.")


class NotificationNotFound(NotFound):
    code = "not_found"
    message = T("找不到该通知。", "Notification not found.")


class UnknownJob(DomainError):
    code = "unknown_job"
    status = 404
    message = T("没有这个定时任务。", "There is no scheduled job with this name.")


class JobBusy(Conflict):
    code = "job_busy"
    message = T("该定时任务正在其他进程中运行。", "This job is running in another process.")
