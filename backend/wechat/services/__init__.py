"""WeChat services: sign-in and binding, subscription consent, content security."""

from backend.wechat.services.security import (
    ImageCheck,
    TextCheck,
    content_check_resolve,
    image_check_start,
    image_verdict_receive,
    text_check,
    text_checks_retry,
)
from backend.wechat.services.signin import wechat_bind, wechat_signin, wechat_unbind
from backend.wechat.services.subscriptions import subscriptions_report

__all__ = [
    "ImageCheck",
    "TextCheck",
    "content_check_resolve",
    "image_check_start",
    "image_verdict_receive",
    "subscriptions_report",
    "text_check",
    "text_checks_retry",
    "wechat_bind",
    "wechat_signin",
    "wechat_unbind",
]
