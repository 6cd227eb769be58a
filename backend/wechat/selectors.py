"""Reads of the WeChat platform."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from backend.accounts.models import User
from backend.wechat import conf
from backend.wechat.models import ContentCheck, Subscription, WeChatAccount


def wechat_account(*, user: User) -> WeChatAccount | None:
    return WeChatAccount.objects.filter(user=user, appid=conf.app_id()).first()


def openid_of(user: User | None) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    return (
        WeChatAccount.objects.filter(user_id=user.pk, appid=conf.app_id())
        .values_list("openid", flat=True)
        .first()
        or ""
    )


@dataclass(frozen=True)
class SubscriptionView:
    template_id: str
    kinds: list[str]
    long_term: bool
    answer: str | None
    credits: int
    sent: int


def subscriptions_of(*, user: User) -> list[SubscriptionView]:
    """Every configured template with what the user has for it."""
    rows = {s.template_id: s for s in Subscription.objects.filter(user=user)}
    out = []
    for template_id, templates in sorted(conf.templates_by_id().items()):
        row = rows.get(template_id)
        out.append(
            SubscriptionView(
                template_id=template_id,
                kinds=sorted(t.kind for t in templates),
                long_term=any(t.long_term for t in templates),
                answer=row.answer if row else None,
                credits=row.credits if row else 0,
                sent=row.sent if row else 0,
            )
        )
    return out


def hidden_media(names: list[str]) -> set[str]:
    """Which of these stored images WeChat found risky (shown to staff only)."""
    names = [n for n in names if n]
    if not names:
        return set()
    return set(
        ContentCheck.objects.filter(
            kind=ContentCheck.Kind.IMAGE, media__in=names, status=ContentCheck.Status.RISKY
        ).values_list("media", flat=True)
    )


def media_hidden(field: str) -> Exists:
    """For a queryset's ``annotate``: whether the image whose storage name is in ``field`` (a
    field path of the queried model) was found risky. Keeps a list at one query."""
    return Exists(
        ContentCheck.objects.filter(
            kind=ContentCheck.Kind.IMAGE, status=ContentCheck.Status.RISKY, media=OuterRef(field)
        )
    )
