"""WeChat subscription messages as a notification channel (registered with notifications).

A notification goes to a user's WeChat when its kind has a template (``WECHAT_SUBSCRIBE_TEMPLATES``)
and the user holds a credit for it: an accepted one-time template (one message per acceptance)
or an accepted long-term one. Credits are spent when WeChat accepts the message, as WeChat
counts them. 43101 (the user has no consent left) uses the credit up, and the notification
still reaches the inbox and the user's app devices; 40003 (the openid is not valid for the app)
unbinds the openid; -1 and 45009 are retried by the delivery engine with backoff and a cap.
"""

from __future__ import annotations

import hashlib
import logging

from django.db.models import F

from backend.notifications.channels import Address, SendResult, delivery_channels
from backend.notifications.models import DeliveryAttempt, Notification
from backend.wechat import client, conf, http
from backend.wechat.messages import render
from backend.wechat.models import Subscription, WeChatAccount
from backend.wechat.services.signin import wechat_account_drop

log = logging.getLogger("linli.wechat")

NO_CONSENT = 43101
INVALID_OPENID = 40003
TRANSIENT = frozenset({http.BUSY, 45009, 45047})


def address_key(openid: str) -> str:
    return hashlib.sha256(f"wechat:{conf.app_id()}:{openid}".encode()).hexdigest()


def _usable(subscription: Subscription | None) -> bool:
    """A one-time template needs a credit left (earlier acceptances stay valid after a later
    "reject"); a long-term one needs the user's latest answer to be "accept"."""
    if subscription is None:
        return False
    if subscription.long_term:
        return subscription.answer == Subscription.Answer.ACCEPT
    return subscription.credits > 0


class WeChatChannel:
    name = "wechat"

    def configured(self) -> bool:
        return conf.configured() and bool(conf.templates())

    def batch_size(self) -> int:
        return 50

    def addresses(self, notifications: list[Notification]) -> dict[int, list[Address]]:
        templates = conf.templates()
        wanted = [n for n in notifications if n.kind in templates]
        out: dict[int, list[Address]] = {n.pk: [] for n in notifications}
        if not wanted:
            return out
        users = {n.user_id for n in wanted}
        accounts = {
            a.user_id: a for a in WeChatAccount.objects.filter(user_id__in=users, appid=conf.app_id())
        }
        subscriptions = {
            (s.user_id, s.template_id): s
            for s in Subscription.objects.filter(
                user_id__in=users, template_id__in={t.template_id for t in templates.values()}
            )
        }
        for n in wanted:
            account = accounts.get(n.user_id)
            if account is not None and _usable(subscriptions.get((n.user_id, templates[n.kind].template_id))):
                out[n.pk].append(Address(key=address_key(account.openid)))
        return out

    def send(self, attempts: list[DeliveryAttempt], by_id: dict[int, Notification]) -> list[SendResult]:
        templates = conf.templates()
        users = {by_id[a.notification_id].user_id for a in attempts}
        accounts = {
            a.user_id: a for a in WeChatAccount.objects.filter(user_id__in=users, appid=conf.app_id())
        }
        return [self._send_one(by_id[a.notification_id], templates, accounts) for a in attempts]

    def _send_one(self, notification: Notification, templates: dict, accounts: dict) -> SendResult:
        template = templates.get(notification.kind)
        account = accounts.get(notification.user_id)
        if template is None or account is None:
            return SendResult("invalid", error_code="not_bound")
        subscription = Subscription.objects.filter(
            user_id=notification.user_id, template_id=template.template_id
        ).first()
        if not _usable(subscription):
            return SendResult("refused", error_code="no_credit")
        data = render(
            template,
            title=notification.title,
            body=notification.body,
            created_at=notification.created_at,
            params=notification.params or {},
        )
        try:
            client.subscribe_send(
                openid=account.openid,
                template_id=template.template_id,
                page=_page(template, notification),
                data=data,
            )
        except http.WeChatError as exc:
            return self._failed(exc, notification, template.template_id)
        except Exception as exc:  # unreachable, token trouble, WeChat unavailable: try again later
            log.warning("subscription message of notification %s not sent: %s", notification.pk, exc)
            return SendResult("transient", error_code=type(exc).__name__[:40])
        spent = Subscription.objects.filter(pk=subscription.pk)  # type: ignore[union-attr]
        if not subscription.long_term:  # type: ignore[union-attr]
            spent = spent.filter(credits__gt=0)
            spent.update(credits=F("credits") - 1, sent=F("sent") + 1)
        else:
            spent.update(sent=F("sent") + 1)
        return SendResult("sent", message_id=f"wechat:{template.template_id}"[:200])

    @staticmethod
    def _failed(exc: http.WeChatError, notification: Notification, template_id: str) -> SendResult:
        code = str(exc.errcode)
        if exc.errcode == NO_CONSENT:
            Subscription.objects.filter(user_id=notification.user_id, template_id=template_id).update(
                credits=0
            )
            return SendResult("refused", error_code=code)
        if exc.errcode == INVALID_OPENID:
            return SendResult("unregistered", error_code=code)
        if exc.errcode in TRANSIENT or exc.errcode in http.TOKEN_ERRORS:
            return SendResult("transient", error_code=code)
        log.error("WeChat refused the subscription message of notification %s: %s", notification.pk, exc)
        return SendResult("invalid", error_code=code)

    def forget(self, attempts: list[DeliveryAttempt]) -> int:
        dead = {a.token_hash for a in attempts if a.outcome == DeliveryAttempt.Outcome.UNREGISTERED}
        if not dead:
            return 0
        removed = 0
        notifications = [a.notification_id for a in attempts if a.token_hash in dead]
        users = set(Notification.objects.filter(pk__in=notifications).values_list("user_id", flat=True))
        for account in WeChatAccount.objects.filter(user_id__in=users, appid=conf.app_id()):
            if address_key(account.openid) in dead:
                wechat_account_drop(account=account, reason="openid_invalid")
                removed += 1
        return removed


def _page(template: conf.Template, notification: Notification) -> str:
    """The mini-program page the message opens: the template's ``page`` (``{link}`` and
    ``{object_id}`` filled in), else the notification's own deep link."""
    data = notification.data or {}
    link = str(data.get("link", "")).lstrip("/")
    if not template.page:
        return link
    return template.page.replace("{link}", link).replace("{object_id}", str(data.get("object_id", "")))


delivery_channels.register(WeChatChannel)
