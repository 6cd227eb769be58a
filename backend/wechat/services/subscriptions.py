"""What users answered to ``wx.requestSubscribeMessage``, as message credits."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from backend.accounts.models import User
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.wechat import conf
from backend.wechat.errors import WeChatNotBound
from backend.wechat.models import Subscription, WeChatAccount
from backend.wechat.services._common import require_configured


def subscriptions_report(*, user: User, results: dict[str, str]) -> None:
    """Record the answers the mini-program got: each ``accept`` of a one-time template is one
    message credit; a long-term template follows the latest answer; ``ban`` (the user switched
    subscription messages off) ends the template's credits."""
    require_configured()
    if not WeChatAccount.objects.filter(user=user, appid=conf.app_id()).exists():
        raise WeChatNotBound()
    known = conf.templates_by_id()
    unknown = [tid for tid in results if tid not in known]
    if unknown:
        raise ValidationFailed(
            errors=[
                field_error(f"results.{tid}", "unknown_template", T("未知的模板。", "Unknown template."))
                for tid in unknown
            ]
        )
    with transaction.atomic():
        for template_id, answer in results.items():
            long_term = any(t.long_term for t in known[template_id])
            row, _ = Subscription.objects.get_or_create(
                user=user, template_id=template_id, defaults={"answer": answer, "long_term": long_term}
            )
            changes: dict = {"answer": answer, "long_term": long_term}
            if answer == Subscription.Answer.ACCEPT and not long_term:
                changes["credits"] = F("credits") + 1
            elif answer == Subscription.Answer.BAN:
                changes["credits"] = 0
            Subscription.objects.filter(pk=row.pk).update(**changes)
