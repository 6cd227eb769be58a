"""Notification kinds of the filings domain (Chinese templates, deep links into the mini-program)."""

from __future__ import annotations

from backend.notifications.kinds import register_kind

FILING_LINK = "/pages/filing/detail?id={object_id}"
REVIEW_LINK = "/pages/review/filing?id={object_id}"
ORG_LINK = "/pages/org/detail?id={object_id}"

# To reviewers
register_kind(
    "filing.submitted",
    category="assignment",
    title="新的备案申请待受理",
    body="“{group_name}”提交了{kind_label}申请，请及时受理。",
    title_en="New filing to accept",
    body_en="“{group_name}” submitted a filing ({kind_label}): please accept it.",
    link=REVIEW_LINK,
)
register_kind(
    "filing.resubmitted",
    category="assignment",
    title="备案申请已补正",
    body="“{group_name}”已按要求补正材料，办理期限至{due_date}。",
    title_en="Filing corrected",
    body_en="“{group_name}” corrected its materials as asked; decide by {due_date}.",
    link=REVIEW_LINK,
)
register_kind(
    "filing.due_soon",
    category="reminder",
    title="备案申请即将到期",
    body="“{group_name}”的{kind_label}申请将于{due_date}到期，请及时办理。",
    title_en="Filing due soon",
    body_en="The filing of “{group_name}” ({kind_label}) is due on {due_date}.",
    link=REVIEW_LINK,
)
register_kind(
    "filing.overdue",
    category="assignment",
    title="备案申请已超期",
    body="“{group_name}”的{kind_label}申请已超过办理期限（{due_date}），请尽快办理。",
    title_en="Filing overdue",
    body_en="The filing of “{group_name}” ({kind_label}) passed its deadline ({due_date}): please decide it soon.",
    link=REVIEW_LINK,
)
# To the representative
register_kind(
    "filing.accepted",
    category="decision",
    title="备案申请已受理",
    body="您提交的“{group_name}”{kind_label}申请已受理，办理期限至{due_date}。",
    title_en="Filing accepted",
    body_en="Your filing for “{group_name}” ({kind_label}) was accepted; the decision is due by {due_date}.",
    link=FILING_LINK,
)
register_kind(
    "filing.correction_requested",
    category="decision",
    title="备案材料需要补正",
    body="“{group_name}”的{kind_label}材料需要补正：{reasons}",
    title_en="Filing needs corrections",
    body_en="The materials of “{group_name}” ({kind_label}) need corrections: {reasons}",
    link=FILING_LINK,
)
register_kind(
    "filing.approved",
    category="decision",
    title="备案已通过",
    body="“{group_name}”的{kind_label}已通过，备案编号{filing_number}，有效期至{valid_until}。",
    title_en="Filing approved",
    body_en="The filing of “{group_name}” ({kind_label}) is approved: number {filing_number}, valid until {valid_until}.",
    link=FILING_LINK,
)
register_kind(
    "filing.rejected",
    category="decision",
    title="备案申请未通过",
    body="“{group_name}”的{kind_label}申请未通过：{reasons}",
    title_en="Filing rejected",
    body_en="The filing of “{group_name}” ({kind_label}) was rejected: {reasons}",
    link=FILING_LINK,
)
register_kind(
    "org.revoked",
    category="decision",
    title="备案已被撤销",
    body="“{group_name}”的备案已被撤销：{reasons}",
    title_en="Filing revoked",
    body_en="The filing of “{group_name}” was revoked: {reasons}",
    link=ORG_LINK,
)
register_kind(
    "org.abnormal_listed",
    category="decision",
    title="组织被列入活动异常名录",
    body="“{group_name}”因{reason}被列入活动异常名录（{listed_on}）。履行相关义务后可申请移出。",
    title_en="Group put on the abnormal list",
    body_en="“{group_name}” was put on the abnormal-activity list ({listed_on}) for: {reason}. It can ask to be removed once the duty is met.",
    link=ORG_LINK,
)
register_kind(
    "org.serious_listed",
    category="decision",
    title="组织被列入严重违法失信名单",
    body="“{group_name}”列入活动异常名录满2年仍未履行相关义务，已被列入严重违法失信名单（{listed_on}）。",
    title_en="Group put on the serious list",
    body_en="“{group_name}” stayed on the abnormal-activity list for 2 years without meeting its duty and is now on the serious violations list ({listed_on}).",
    link=ORG_LINK,
)
register_kind(
    "org.listing_removed",
    category="decision",
    title="组织已移出信用名单",
    body="“{group_name}”已移出{list_label}（{removed_on}）：{reason}",
    title_en="Group removed from a credit list",
    body_en="“{group_name}” was removed from {list_label} ({removed_on}): {reason}",
    link=ORG_LINK,
)
register_kind(
    "org.renewal_due",
    category="reminder",
    title="备案即将到期",
    body="“{group_name}”的备案有效期至{valid_until}，请及时申请延续备案。",
    title_en="Filing expiring soon",
    body_en="The filing of “{group_name}” is valid until {valid_until}: ask for its renewal in time.",
    link=ORG_LINK,
)
register_kind(
    "org.expired",
    category="info",
    title="备案已过期",
    body="“{group_name}”的备案已于{valid_until}到期，请重新办理备案。",
    title_en="Filing expired",
    body_en="The filing of “{group_name}” expired on {valid_until}: file again.",
    link=ORG_LINK,
)
