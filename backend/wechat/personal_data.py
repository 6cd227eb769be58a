"""The WeChat domain's part of a person's data rights: the binding and message consents."""

from __future__ import annotations

from typing import Any

from backend.accounts.hooks import DataSection, account_cancelling, account_erasing, iso, personal_data
from backend.core.audit import audit_record
from backend.core.i18n import T
from backend.wechat.models import ContentCheck, Subscription, WeChatAccount


@personal_data.register
def wechat_data(user: Any) -> list[DataSection]:
    account = WeChatAccount.objects.filter(user=user).first()
    return [
        DataSection(
            key="wechat",
            title=T("微信绑定", "WeChat binding"),
            purpose=T(
                "用微信登录小程序，并按你的同意发送订阅消息。",
                "Signs you in through WeChat and sends the subscription messages you agreed to.",
            ),
            data={
                "binding": {
                    "openid": account.openid,
                    "unionid": account.unionid,
                    "bound_at": iso(account.bound_at),
                    "last_signed_in_at": iso(account.last_signed_in_at),
                }
                if account
                else None,
                "subscriptions": [
                    {
                        "template_id": s.template_id,
                        "answer": s.answer,
                        "credits": s.credits,
                        "updated_at": iso(s.updated_at),
                    }
                    for s in Subscription.objects.filter(user=user).order_by("pk")
                ],
            },
            kept_after_cancellation=T("不保留：申请注销时即解除绑定。", "Nothing: unbound at the request."),
        )
    ]


@account_cancelling.register
def wechat_cancelling(user: Any) -> None:
    if WeChatAccount.objects.filter(user=user).exists() or Subscription.objects.filter(user=user).exists():
        Subscription.objects.filter(user=user).delete()
        WeChatAccount.objects.filter(user=user).delete()
        audit_record(actor=user, action="wechat.unbound", target=user, reason="account_cancellation")


@account_erasing.register
def wechat_erasing(user: Any, pseudonym: str) -> None:
    Subscription.objects.filter(user=user).delete()
    WeChatAccount.objects.filter(user=user).delete()
    ContentCheck.objects.filter(author=user).update(text="")  # the verdicts stay, the texts go
