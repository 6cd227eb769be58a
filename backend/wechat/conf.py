"""Settings of the WeChat platform, read on every use.

``WECHAT_APP_ID`` and ``WECHAT_APP_SECRET`` switch WeChat on; without them every WeChat endpoint
answers 503 ``wechat_not_configured`` and nothing tries to reach WeChat (the embedded default).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_API_BASE = "https://api.weixin.qq.com"


def app_id() -> str:
    return str(getattr(settings, "WECHAT_APP_ID", "") or "")


def app_secret() -> str:
    return str(getattr(settings, "WECHAT_APP_SECRET", "") or "")


def configured() -> bool:
    return bool(app_id() and app_secret())


def api_base() -> str:
    return str(getattr(settings, "WECHAT_API_BASE", "") or DEFAULT_API_BASE).rstrip("/")


def msg_token() -> str:
    """The message-push token configured in the mini-program's console (callback signatures)."""
    return str(getattr(settings, "WECHAT_MSG_TOKEN", "") or "")


def http_timeout() -> float:
    return float(getattr(settings, "WECHAT_HTTP_TIMEOUT", 5))


def busy_retries() -> int:
    """Extra tries of a call that met WeChat's "system busy" (-1) or no answer, before 503."""
    return max(0, int(getattr(settings, "WECHAT_BUSY_RETRIES", 2)))


def busy_backoff() -> float:
    return float(getattr(settings, "WECHAT_BUSY_BACKOFF", 0.2))


def token_margin() -> int:
    """Seconds before its expiry when the access token is fetched anew (WeChat hands out a new
    one in the last 5 minutes and keeps the old one valid meanwhile)."""
    return int(getattr(settings, "WECHAT_TOKEN_MARGIN", 300))


def forced_refresh_per_day() -> int:
    return int(getattr(settings, "WECHAT_FORCED_REFRESH_PER_DAY", 20))


def forced_refresh_gap() -> int:
    return int(getattr(settings, "WECHAT_FORCED_REFRESH_GAP", 30))


def miniprogram_state() -> str:
    """``formal`` in production; ``trial`` or ``developer`` for test builds of the mini-program."""
    return str(getattr(settings, "WECHAT_MINIPROGRAM_STATE", "formal") or "formal")


def media_check_url_ttl() -> int:
    """How long WeChat may take to fetch an image sent for checking (seconds)."""
    return int(getattr(settings, "WECHAT_MEDIA_URL_TTL", 3600))


@dataclass(frozen=True)
class Template:
    """One subscription-message template and how a notification fills it."""

    kind: str
    template_id: str
    page: str
    data: dict[str, str]
    long_term: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # field -> WeChat type (thing, time, ...)


def templates() -> dict[str, Template]:
    """``WECHAT_SUBSCRIBE_TEMPLATES``: JSON, notification kind -> ``{"template_id", "page", "data":
    {"<field>": "<text with {title}, {body}, {time} and the notification's params>"},
    "long_term"?}``. The WeChat type of a field is the letters of its name (``thing1`` → thing)."""
    raw: Any = getattr(settings, "WECHAT_SUBSCRIBE_TEMPLATES", "") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ImproperlyConfigured("WECHAT_SUBSCRIBE_TEMPLATES is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise ImproperlyConfigured("WECHAT_SUBSCRIBE_TEMPLATES must be a JSON object")
    out = {}
    for kind, spec in raw.items():
        if (
            not isinstance(spec, dict)
            or not spec.get("template_id")
            or not isinstance(spec.get("data"), dict)
        ):
            raise ImproperlyConfigured(f"WECHAT_SUBSCRIBE_TEMPLATES[{kind!r}] needs template_id and data")
        data = {str(k): str(v) for k, v in spec["data"].items()}
        out[kind] = Template(
            kind=kind,
            template_id=str(spec["template_id"]),
            page=str(spec.get("page", "")),
            data=data,
            long_term=bool(spec.get("long_term", False)),
            fields={name: name.rstrip("0123456789") for name in data},
        )
    return out


def templates_by_id() -> dict[str, list[Template]]:
    by_id: dict[str, list[Template]] = {}
    for template in templates().values():
        by_id.setdefault(template.template_id, []).append(template)
    return by_id


def qr_verify_file() -> tuple[str, str] | None:
    """``WECHAT_QR_VERIFY_FILE`` = ``"<name>.txt:<content>"``: the domain verification file WeChat
    asks to be served at the site root before it maps the QR link prefix to the mini-program."""
    value = str(getattr(settings, "WECHAT_QR_VERIFY_FILE", "") or "")
    name, sep, content = value.partition(":")
    if not sep or not name or "/" in name:
        return None
    return name, content
