"""Schemas of WeChat sign-in, binding and subscription consent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas import Schema


class WeChatSignInIn(Schema):
    code: str = Field(
        min_length=1, max_length=128, description="The code from wx.login (one use, 5 minutes)."
    )
    phone_code: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The code from the getPhoneNumber button; only needed for a first sign-in.",
    )


class WeChatBindIn(Schema):
    code: str = Field(min_length=1, max_length=128, description="The code from wx.login.")


class WeChatBindingOut(Schema):
    bound: bool
    bound_at: datetime | None
    has_unionid: bool


class SubscriptionReportIn(Schema):
    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(
        description="template_id -> the user's answer, as wx.requestSubscribeMessage returned it.",
        max_length=20,
    )


class SubscriptionOut(Schema):
    template_id: str
    kinds: list[str]
    long_term: bool
    answer: str | None
    credits: int
    sent: int


class SubscriptionsOut(Schema):
    items: list[SubscriptionOut]
