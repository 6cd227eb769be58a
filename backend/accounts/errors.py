from backend.core.errors import DomainError, InvalidToken, ValidationFailed
from backend.core.i18n import T


class InvalidIdToken(InvalidToken):
    code = "invalid_id_token"
    message = T("Firebase 登录凭证无效或已过期。", "The Firebase ID token is invalid or has expired.")


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
