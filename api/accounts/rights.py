"""A person's rights over their data (PIPL Art. 44-47): a copy of it, and cancelling the account."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.html import escape
from ninja import Router

from api.accounts.schemas import CancellationOut, KeepAccountIn, PersonalDataOut, TokenOut
from api.auth import bearer
from api.schemas import ERRORS
from api.throttles import signin_throttle
from backend.accounts import services
from backend.core.i18n import T, request_lang

router = Router(tags=["me"])
auth_router = Router(tags=["auth"])


@router.get("/data", response={200: PersonalDataOut, **ERRORS}, auth=bearer)
def personal_data(request, format: str = "json"):
    """A copy of the personal data Linli holds about the caller, section by section (account and
    devices, notifications, WeChat, volunteering, filings, event passes, river patrols): what it
    is, why it is held and what a cancellation keeps. ``?format=html`` gives the same as a
    readable page. Includes the full ID number, so every copy is an audited read."""
    copy = services.personal_data_copy(user=request.auth)
    if format == "html":
        return HttpResponse(_html(copy, request_lang(request)), content_type="text/html; charset=utf-8")
    return copy


@router.post("/cancel", response={200: CancellationOut, **ERRORS}, auth=bearer)
def account_cancel(request):
    """Cancel the account (注销). Every session, token, push device and the WeChat binding go at
    once, and sign-ups ahead are cancelled; after the cooling-off period (``effective_at``,
    15 days by default) personal data is deleted or replaced by a pseudonym, records
    organisations must keep stay under it, and the phone number can register again. Signing
    in before then answers 409 ``account_cancellation_pending`` with a ``keep_token``."""
    return services.account_cancel_request(user=request.auth)


@auth_router.post(
    "/keep-account", response={200: TokenOut, **ERRORS}, auth=None, throttle=[signin_throttle()]
)
def keep_account(request, payload: KeepAccountIn):
    """Keep an account in its cancellation cooling-off period: send the ``keep_token`` of the
    409 ``account_cancellation_pending`` a sign-in answered (valid 10 minutes). The cancellation
    is withdrawn and the device signed in (the same body as the sign-ins)."""
    return services.account_keep(keep_token=payload.keep_token)


def _html(copy: dict[str, Any], lang: str) -> str:
    title = T("我的个人信息副本", "My personal data").get(lang)
    kept = T("注销后保留", "Kept after cancellation").get(lang)
    parts = [
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        "</head><body>",
        f"<h1>{escape(title)}</h1><p>{escape(copy['generated_at'])}</p>",
    ]
    for section in copy["sections"]:
        parts.append(f'<section id="{escape(section.key)}"><h2>{escape(section.title.get(lang))}</h2>')
        parts.append(f"<p>{escape(section.purpose.get(lang))}</p>")
        if section.kept_after_cancellation:
            parts.append(
                f"<p><strong>{escape(kept)}:</strong> {escape(section.kept_after_cancellation.get(lang))}</p>"
            )
        parts.append(_value(section.data))
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def _value(value: Any) -> str:
    """Nested data as nested lists: keys in bold, values escaped."""
    if isinstance(value, dict):
        items = "".join(f"<li><b>{escape(str(k))}</b>: {_value(v)}</li>" for k, v in value.items())
        return f"<ul>{items}</ul>"
    if isinstance(value, list):
        return "<ol>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ol>" if value else "—"
    return "—" if value is None or value == "" else escape(str(value))
