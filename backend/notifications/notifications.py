"""Kinds of the notifications domain itself."""

from backend.notifications.kinds import register_kind

register_kind(
    "system.welcome",
    category="info",
    title="欢迎使用邻里",
    body="{name}，你好！审批结果、排班提醒和任务指派都会在这里通知你。",
    title_en="Welcome to Linli",
    body_en="Hello {name}! Decisions, shift reminders and assignments will reach you here.",
    link="/pages/notifications/index",
)
