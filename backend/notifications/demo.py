"""Demo data: a welcome notification in every demo account's inbox (idempotent)."""

from __future__ import annotations

from backend.accounts.demo import DEMO_PHONES, demo_user
from backend.notifications.services import notify


def seed(stdout) -> None:
    created = 0
    for role in DEMO_PHONES:
        user = demo_user(role)
        if notify(
            user=user,
            kind="system.welcome",
            params={"name": user.display_name or "你好"},
            dedupe_key="demo.welcome",
        ):
            created += 1
    stdout.write(f"notifications: {created} welcome notifications")
