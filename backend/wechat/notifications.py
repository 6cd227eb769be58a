"""Notification kinds of the WeChat platform."""

from backend.notifications.kinds import register_kind

register_kind(
    "wechat.image_rejected",
    category="decision",
    title="图片未通过审核",
    body="您上传的图片未通过内容安全审核，已对他人隐藏。",
    link="/pages/me/index",
)
