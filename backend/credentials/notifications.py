"""Notification kinds of the credentials domain."""

from backend.notifications.kinds import register_kind

register_kind(
    "credential.expiring",
    category="reminder",
    title="证件即将到期：{certificate_no}",
    body="{masked_name} 的 {type}（证书编号 {certificate_no}）将于 {valid_until} 到期，请及时办理续期。",
    title_en="Credential expiring: {certificate_no}",
    body_en="{masked_name}'s {type} (certificate {certificate_no}) expires on {valid_until}: renew it in time.",
    link="/pages/credentials/detail?id={object_id}",
)
