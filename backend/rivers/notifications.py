"""Notification kinds of the rivers domain."""

from __future__ import annotations

from backend.notifications.kinds import register_kind

ISSUE_LINK = "/pages/rivers/issue?id={object_id}"
PATROL_LINK = "/pages/rivers/patrol?id={object_id}"

register_kind(
    "river_issue.reported",
    category="assignment",
    title="新的河湖问题待受理：{type_label}",
    body="{river} {segment} 上报了{type_label}，请在 {due} 前处置。",
    title_en="New river issue to accept: {type_label}",
    body_en="{type_label} reported at {river} {segment}: handle it before {due}.",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.accepted",
    category="decision",
    title="您上报的问题已受理",
    body="{river}的{type_label}问题已受理，正在安排处置。",
    title_en="Your report was accepted",
    body_en="The {type_label} issue at {river} was accepted and is being handled.",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.rejected",
    category="decision",
    title="您上报的问题不予受理",
    body="{river}的{type_label}问题不予受理，原因：{reason}",
    title_en="Your report was not accepted",
    body_en="The {type_label} issue at {river} was not accepted: {reason}",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.assigned",
    category="assignment",
    title="河湖问题派单：{type_label}",
    body="{river} {segment} 的{type_label}问题已指派给您，请在 {due} 前处置。",
    title_en="River issue assigned: {type_label}",
    body_en="The {type_label} issue at {river} {segment} is assigned to you: handle it before {due}.",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.resolved",
    category="decision",
    title="河湖问题已处置，请核实",
    body="{river}的{type_label}问题已处置：{resolution}",
    title_en="River issue resolved: please verify",
    body_en="The {type_label} issue at {river} was resolved: {resolution}",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.verified",
    category="decision",
    title="河湖问题处置已核实",
    body="{river}的{type_label}问题处置结果已核实，等待办结。",
    title_en="River issue resolution verified",
    body_en="The resolution of the {type_label} issue at {river} was verified; it awaits closing.",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.reopened",
    category="assignment",
    title="河湖问题处置未通过核实",
    body="{river}的{type_label}问题需要重新处置：{note}",
    title_en="River issue resolution not accepted",
    body_en="The {type_label} issue at {river} needs handling again: {note}",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.closed",
    category="decision",
    title="您上报的问题已办结",
    body="{river}的{type_label}问题已办结，感谢您的守护。",
    title_en="Your report is closed",
    body_en="The {type_label} issue at {river} is closed. Thank you for looking after the river.",
    link=ISSUE_LINK,
)
register_kind(
    "river_issue.overdue",
    category="reminder",
    title="河湖问题已超期：{type_label}",
    body="{river} {segment} 的{type_label}问题已超过处置时限（{due}）。",
    title_en="River issue overdue: {type_label}",
    body_en="The {type_label} issue at {river} {segment} passed its deadline ({due}).",
    link=ISSUE_LINK,
)
register_kind(
    "patrol.credited",
    category="info",
    title="巡河有效，已记录志愿服务时长",
    body="{river} {segment} 巡河 {distance_km} 公里、{minutes} 分钟，记录服务时长 {hours} 小时。",
    title_en="Patrol valid: service hours recorded",
    body_en="Patrol of {river} {segment}: {distance_km} km, {minutes} min; {hours} service hours recorded.",
    link=PATROL_LINK,
)
register_kind(
    "patrol.invalid",
    category="info",
    title="巡河未达到有效标准",
    body="{river} {segment} 巡河 {distance_km} 公里、{minutes} 分钟，未达到有效巡河标准（{minimums}）。",
    title_en="Patrol below the valid minimum",
    body_en="Patrol of {river} {segment}: {distance_km} km, {minutes} min, below the minimum for a valid patrol ({minimums}).",
    link=PATROL_LINK,
)
