"""Notification kinds of event check-in."""

from backend.notifications.kinds import register_kind

register_kind(
    "checkin.pass_issued",
    category="info",
    title="活动凭证：{event}",
    body="你参加 {event}（{starts_at}）的入场凭证已生成，入场时请出示二维码。",
    title_en="Event pass: {event}",
    body_en="Your pass for {event} ({starts_at}) is ready: show its QR code at the entrance.",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.pass_reissued",
    category="decision",
    title="凭证已重新签发：{event}",
    body="你参加 {event} 的入场凭证已重新签发，旧二维码已失效，请使用新的二维码。",
    title_en="Pass reissued: {event}",
    body_en="Your pass for {event} was reissued: the old QR code no longer works, use the new one.",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.pass_voided",
    category="decision",
    title="凭证已作废：{event}",
    body="你参加 {event} 的入场凭证已作废。",
    title_en="Pass voided: {event}",
    body_en="Your pass for {event} was voided.",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.event_starting",
    category="reminder",
    title="活动即将开始：{event}",
    body="{event} 将于 {starts_at} 开始{venue}，入场时请出示凭证二维码。",
    title_en="Starting soon: {event}",
    body_en="{event} starts at {starts_at}{venue}: show your pass's QR code at the entrance.",
    link="/pages/checkin/pass?id={object_id}",
)
