"""Notification kinds of the volunteers domain."""

from backend.notifications.kinds import register_kind

register_kind(
    "signup.promoted",
    category="decision",
    title="候补转正：{activity}",
    body="{activity}（{starts_at}）有名额空出，请在 {confirm_by} 前确认参加，逾期名额将顺延给下一位。",
    link="/pages/volunteer/signup?id={object_id}",
)
register_kind(
    "signup.promotion_expired",
    category="info",
    title="候补名额已顺延：{activity}",
    body="你未在规定时间内确认 {activity} 的候补转正，名额已顺延给下一位。",
    link="/pages/volunteer/signup?id={object_id}",
)
register_kind(
    "shift.reminder",
    category="reminder",
    title="服务提醒：{activity}",
    body="你报名的 {activity} 将于 {starts_at} 开始，地点：{place}。",
    link="/pages/volunteer/signup?id={object_id}",
)
register_kind(
    "volunteer.banned",
    category="decision",
    title="暂停报名",
    body="你近期已缺席 {count} 次，{until} 前暂不能报名志愿服务。",
    link="/pages/volunteer/profile",
)
register_kind(
    "service_record.pending",
    category="info",
    title="服务时数待审核",
    body="你 {date} 的服务时数（{hours} 小时）超出当日上限，需组织审核后生效。",
    link="/pages/volunteer/records",
)
register_kind(
    "service_record.decided",
    category="decision",
    title="服务时数审核结果",
    body="你 {date} 的服务时数（{hours} 小时）审核{result}。",
    link="/pages/volunteer/records",
)
register_kind(
    "team.invited",
    category="info",
    title="队伍邀请：{team}",
    body="{leader} 邀请你加入志愿服务队「{team}」。接受后，队长可以为你报名班次。",
    link="/pages/volunteer/teams",
)
register_kind(
    "team.signed_up",
    category="info",
    title="队伍报名：{activity}",
    body="队长 {leader} 已为你报名 {activity}（{starts_at}）。如不能参加，请及时取消。",
    link="/pages/volunteer/signup?id={object_id}",
)
register_kind(
    "transfer.offered",
    category="decision",
    title="名额转让：{activity}",
    body="{from} 想把 {activity}（{starts_at}）的名额转让给你，请在过期前接受或拒绝。",
    link="/pages/volunteer/transfers",
)
register_kind(
    "transfer.accepted",
    category="info",
    title="名额已转让：{activity}",
    body="{to} 已接受你转让的 {activity} 名额，你的报名已转出。",
    link="/pages/volunteer/transfers",
)
register_kind(
    "guardian.consent_requested",
    category="decision",
    title="监护人同意：{minor}",
    body="{minor} 注册志愿者时填写你为监护人（{relation}）。请阅读监护人同意书并确认是否同意。",
    link="/pages/volunteer/guardian",
)
