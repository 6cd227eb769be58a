"""Demo accounts: one per role, fixed phone numbers (listed in the README), all in Shenzhen's
Longhua district, 民治街道 (440309002). Later domains add their own demo data and grants."""

from __future__ import annotations

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.services import grant_role

DEMO_STREET = "440309002"  # 深圳市龙华区民治街道
DEMO_COMMUNITY = "440309002001"
DEMO_COMMUNITY_NAME = "民治社区（演示）"

DEMO_PHONES = {
    "platform_admin": "13800000000",
    "reviewer": "13800000001",
    "group_rep": "13800000002",
    "coordinator": "13800000003",
    "scanner": "13800000004",
    "association_admin": "13800000005",
    "volunteer": "13800000006",
    "resident": "13800000007",
}

DEMO_NAMES = {
    "platform_admin": "演示平台管理员",
    "reviewer": "演示审核员",
    "group_rep": "演示组织负责人",
    "coordinator": "演示协调员",
    "scanner": "演示检票员",
    "association_admin": "演示协会管理员",
    "volunteer": "演示志愿者",
    "resident": "演示居民",
}


def demo_user(role: str) -> User:
    user, _ = User.objects.get_or_create(phone=DEMO_PHONES[role], defaults={"display_name": DEMO_NAMES[role]})
    return user


def seed(stdout) -> None:
    for role in DEMO_PHONES:
        demo_user(role)
    admin = demo_user("platform_admin")
    grant_role(user=admin, role=Role.PLATFORM_ADMIN)
    grant_role(
        user=demo_user("reviewer"), role=Role.REVIEWER, scope_type=ScopeType.DIVISION, scope_id=DEMO_STREET
    )
    stdout.write(f"accounts: {len(DEMO_PHONES)} demo users")
