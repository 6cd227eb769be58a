"""Notification kinds of the WeChat platform."""

from backend.notifications.kinds import register_kind

register_kind(
    "wechat.image_rejected",
    category="decision",
    title="图片未通过审核",
    body="您上传的图片未通过内容安全审核，已对他人隐藏。",
    title_en="Image not approved",
    body_en="An image you uploaded did not pass the content check and is hidden from others.",
    link="/pages/me/index",
)
