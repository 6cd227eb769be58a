"""Fixtures of the notifications tests; ``fcm_standin`` comes from the reusable stand-in module."""

from __future__ import annotations

import pytest

from backend.notifications.kinds import register_kind
from tests.notifications.fcm_standin import fcm_standin  # noqa: F401

# Kinds of every category, for tests that must not depend on other domains' kinds.
DECISION = register_kind(
    "test.decision",
    category="decision",
    title="备案已通过：{name}",
    body="你提交的“{name}”已通过审核。",
    link="/pages/filing/detail?id={object_id}",
)
ASSIGNMENT = register_kind(
    "test.assignment", category="assignment", title="新任务", body="你被指派处理 {what}。"
)
REMINDER = register_kind(
    "test.reminder",
    category="reminder",
    title="排班提醒",
    body="{when} 开始值班。",
    link="/pages/shift?id={object_id}",
)
INFO = register_kind("test.info", category="info", title="资讯", body="{text}")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit callbacks at the end of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
