from backend.core.errors import DomainError, InvalidToken, ServiceUnavailable, ValidationFailed
from backend.core.i18n import T


class InvalidIdToken(InvalidToken):
    code = "invalid_id_token"
    message = T("Firebase 登录凭证无效或已过期。", "The Firebase ID token is invalid or has expired.")


class FirebaseNotConfigured(ServiceUnavailable):
    code = "firebase_not_configured"
    message = T("本服务未配置 Firebase 登录。", "Firebase sign-in is not configured on this server.")


class PhoneSignInRequired(InvalidToken):
    code = "phone_sign_in_required"
    message = T("请使用手机号登录。", "Sign in with a phone number.")


class InvalidRefreshToken(InvalidToken):
    code = "invalid_refresh_token"
    message = T(
        "刷新凭证无效或已过期，请重新登录。", "The refresh token is invalid or has expired. Sign in again."
    )


class RefreshTokenReused(InvalidToken):
    code = "refresh_token_reused"
    message = T(
        "刷新凭证已被使用，为安全起见已退出该设备的登录。",
        "This refresh token was already used; the session has been ended for safety.",
    )


class DevLoginDisabled(DomainError):
    code = "dev_login_disabled"
    status = 404
    message = T("开发登录在此环境中不可用。", "Dev login is not available in this environment.")


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    message = T("请输入有效的中国大陆手机号码。", "Enter a valid mainland China mobile number.")


class AccountDisabled(DomainError):
    code = "account_disabled"
    status = 403
    message = T("该账号已被停用。", "This account is disabled.")


class LastPlatformAdmin(DomainError):
    code = "last_platform_admin"
    status = 409
    message = T("不能撤销最后一位平台管理员的角色。", "The last platform admin's role cannot be revoked.")


class StaffCodeInvalid(DomainError):
    code = "staff_code_invalid"
    status = 401
    message = T(
        "手机号或验证码不正确，或验证码已过期。", "Wrong phone number or code, or the code has expired."
    )


class NotStaff(DomainError):
    code = "not_staff"
    status = 403
    message = T("只有工作人员可以登录管理后台。", "Only staff can sign in to the admin.")


class CancellationPending(DomainError):
    code = "account_cancellation_pending"
    status = 409
    message = T(
        "该账号正在注销冷静期内。如要保留账号，请确认撤回注销。",
        "This account is in its cancellation cooling-off period. Confirm to keep the account.",
    )


class NoCancellationPending(DomainError):
    code = "no_cancellation_pending"
    status = 409
    message = T("该账号没有待生效的注销申请。", "This account has no pending cancellation.")


class CancellationAlreadyRequested(DomainError):
    code = "cancellation_already_requested"
    status = 409
    message = T("已提交注销申请。", "A cancellation has already been requested.")


class KeepTokenInvalid(InvalidToken):
    code = "keep_token_invalid"
    message = T(
        "保留账号的凭证无效或已过期，请重新登录。",
        "The keep-account token is invalid or has expired. Sign in again.",
    )
