"""Notification kinds of event check-in."""

from backend.notifications.kinds import register_kind

register_kind(
    "checkin.pass_issued",
    category="info",
    title="活动凭证：{event}",
    body="你参加 {event}（{starts_at}）的入场凭证已生成，入场时请出示二维码。",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.pass_reissued",
    category="decision",
    title="凭证已重新签发：{event}",
    body="你参加 {event} 的入场凭证已重新签发，旧二维码已失效，请使用新的二维码。",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.pass_voided",
    category="decision",
    title="凭证已作废：{event}",
    body="你参加 {event} 的入场凭证已作废。",
    link="/pages/checkin/pass?id={object_id}",
)
register_kind(
    "checkin.event_starting",
    category="reminder",
    title="活动即将开始：{event}",
    body="{event} 将于 {starts_at} 开始{venue}，入场时请出示凭证二维码。",
    link="/pages/checkin/pass?id={object_id}",
)
