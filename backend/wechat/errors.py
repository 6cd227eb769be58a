"""Errors of the WeChat platform. WeChat's own error codes never reach clients as 500s."""

from __future__ import annotations

from backend.core.errors import Conflict, DomainError, InvalidToken
from backend.core.i18n import T


class WeChatNotConfigured(DomainError):
    code = "wechat_not_configured"
    status = 503
    message = T("本服务尚未接入微信。", "WeChat is not configured on this server.")


class WeChatUnavailable(DomainError):
    code = "wechat_unavailable"
    status = 503
    message = T("微信服务暂时不可用，请稍后再试。", "WeChat is unavailable right now; try again later.")


class WeChatRateLimited(DomainError):
    code = "wechat_rate_limited"
    status = 429
    message = T("请求过于频繁，请稍后再试。", "Too many requests to WeChat; try again later.")


class WeChatCodeInvalid(InvalidToken):
    code = "wechat_code_invalid"
    message = T("微信登录凭证无效，请重新登录。", "The WeChat login code is invalid; call wx.login again.")


class WeChatCodeUsed(InvalidToken):
    code = "wechat_code_used"
    message = T(
        "微信登录凭证已使用，请重新获取。", "The WeChat login code was already used; call wx.login again."
    )


class WeChatUserBlocked(DomainError):
    code = "wechat_user_blocked"
    status = 403
    message = T("微信判定该账号存在风险，暂不能登录。", "WeChat has blocked this account from signing in.")


class WeChatPhoneRequired(Conflict):
    code = "wechat_phone_required"
    message = T(
        "首次使用请授权手机号。", "First sign-in: share the phone number (getPhoneNumber) and try again."
    )


class WeChatPhoneCodeInvalid(DomainError):
    code = "wechat_phone_code_invalid"
    status = 422
    message = T("手机号授权已失效，请重新授权。", "The phone-number code is invalid or expired; ask again.")


class WeChatPhoneNotMainland(DomainError):
    code = "wechat_phone_not_mainland"
    status = 422
    message = T("请使用中国大陆手机号。", "Only mainland China mobile numbers can sign in.")


class WeChatBoundElsewhere(Conflict):
    code = "wechat_bound_elsewhere"
    message = T("该微信已绑定其他账号。", "This WeChat account is bound to another Linli account.")


class WeChatAccountMismatch(Conflict):
    code = "wechat_account_mismatch"
    message = T(
        "该账号已绑定另一个微信，请先解绑。",
        "This account is bound to another WeChat account; unbind it first.",
    )


class WeChatNotBound(DomainError):
    code = "wechat_not_bound"
    status = 404
    message = T("该账号未绑定微信。", "No WeChat account is bound to this account.")


class UnknownTemplate(DomainError):
    code = "unknown_template"
    status = 422
    message = T("未知的订阅消息模板。", "Unknown subscription-message template.")


class CallbackSignatureInvalid(DomainError):
    code = "invalid_signature"
    status = 403
    message = T("签名校验失败。", "The signature does not match.")


class ContentRejected(DomainError):
    code = "content_rejected"
    status = 422
    message = T("内容含有违法违规信息，请修改后再提交。", "The text contains content that is not allowed.")
