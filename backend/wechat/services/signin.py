"""Sign-in with ``wx.login``, and binding WeChat to an account.

One person is one account whether they arrive by WeChat or Firebase: the phone number joins
them. A known openid signs in by its ``wx.login`` code alone; an unknown one needs the phone
number once (``getPhoneNumber``: WeChat charges per number, so it is never asked again).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.accounts.services import TokenPair, session_start, user_get_or_create
from backend.core.audit import audit_record
from backend.core.crypto import seal
from backend.wechat import client, conf, http
from backend.wechat.errors import (
    WeChatAccountMismatch,
    WeChatBoundElsewhere,
    WeChatNotBound,
    WeChatPhoneCodeInvalid,
    WeChatPhoneNotMainland,
    WeChatPhoneRequired,
)
from backend.wechat.models import Subscription, WeChatAccount
from backend.wechat.services._common import as_domain_error, require_configured


def _login(code: str) -> http.LoginSession:
    try:
        return http.code2session(code)
    except (http.WeChatError, http.Unreachable) as exc:
        raise as_domain_error(exc) from exc


def _phone(phone_code: str) -> str:
    try:
        phone = client.phone_number(phone_code)
    except (http.WeChatError, http.Unreachable) as exc:
        raise as_domain_error(exc, code_error=WeChatPhoneCodeInvalid) from exc
    if phone.country_code not in ("86", ""):
        raise WeChatPhoneNotMainland()
    return phone.pure


def _account(openid: str) -> WeChatAccount | None:
    return WeChatAccount.objects.select_related("user").filter(appid=conf.app_id(), openid=openid).first()


def _bind(*, user: User, login: http.LoginSession, actor: User) -> WeChatAccount:
    """Bind ``login``'s openid to ``user`` (refusing an openid of another account, or a second
    WeChat for this one)."""
    with transaction.atomic():
        existing = _account(login.openid)
        if existing is not None and existing.user_id != user.pk:
            raise WeChatBoundElsewhere()
        mine = WeChatAccount.objects.filter(user=user).first()
        if mine is not None and mine.openid != login.openid:
            raise WeChatAccountMismatch()
        if mine is None:
            try:
                with transaction.atomic():
                    mine = WeChatAccount.objects.create(
                        user=user, appid=conf.app_id(), openid=login.openid, unionid=login.unionid
                    )
            except IntegrityError as exc:  # bound by a concurrent request
                raise WeChatBoundElsewhere() from exc
            audit_record(
                actor=actor, action="wechat.bound", target=user, data={"openid": login.openid[:6] + "…"}
            )
        mine.session_key = seal(login.session_key, purpose="wechat.session_key") if login.session_key else ""
        mine.unionid = login.unionid or mine.unionid
        mine.last_signed_in_at = timezone.now()
        mine.save(update_fields=["session_key", "unionid", "last_signed_in_at"])
    return mine


def wechat_signin(*, code: str, phone_code: str | None = None) -> TokenPair:
    """``POST /auth/wechat``: Linli's tokens for the person behind a ``wx.login`` code."""
    require_configured()
    login = _login(code)
    account = _account(login.openid)
    if account is not None:
        user = account.user
        WeChatAccount.objects.filter(pk=account.pk).update(
            session_key=seal(login.session_key, purpose="wechat.session_key") if login.session_key else "",
            unionid=login.unionid or account.unionid,
            last_signed_in_at=timezone.now(),
        )
        return session_start(user=user, method="wechat")
    if not phone_code:
        raise WeChatPhoneRequired()
    user = user_get_or_create(phone=_phone(phone_code))
    _bind(user=user, login=login, actor=user)
    return session_start(user=user, method="wechat")


def wechat_bind(*, user: User, code: str) -> WeChatAccount:
    """``POST /me/wechat``: bind WeChat to the signed-in account."""
    require_configured()
    return _bind(user=user, login=_login(code), actor=user)


def wechat_unbind(*, user: User) -> None:
    """``DELETE /me/wechat``: forget the account's WeChat identity and its message consents."""
    with transaction.atomic():
        account = WeChatAccount.objects.filter(user=user).first()
        if account is None:
            raise WeChatNotBound()
        Subscription.objects.filter(user=user).delete()
        account.delete()
        audit_record(actor=user, action="wechat.unbound", target=user)


def wechat_account_drop(*, account: WeChatAccount, reason: str) -> None:
    """WeChat says the openid is not (or no longer) valid for the app (40003): unbind it."""
    with transaction.atomic():
        Subscription.objects.filter(user_id=account.user_id).delete()
        WeChatAccount.objects.filter(pk=account.pk).delete()
        audit_record(actor=None, action="wechat.unbound", target=account.user, reason=reason)
