"""Filling a subscription-message template from a notification, within WeChat's field limits.

Each template field has a WeChat type, named by the letters of the field (``thing1`` is a
``thing``). Values that break a type's limits are refused by WeChat (47003) and nothing is sent,
so every value is fitted here: ``thing`` ≤ 20 characters (cut cleanly with "…"), ``phrase`` ≤ 5
Chinese characters, ``character_string`` ≤ 32 printable ASCII characters, times as
``2026年12月05日 09:00`` in Asia/Shanghai, and so on.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.wechat.conf import Template

ZONE = ZoneInfo("Asia/Shanghai")
ELLIPSIS = "…"
_CJK = re.compile(r"[\u4e00-\u9fff]")


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _as_time(text: str, *, with_time: bool = True) -> str:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return text.strip()
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZONE)
    date = f"{moment.year}年{moment.month:02d}月{moment.day:02d}日"
    return f"{date} {moment:%H:%M}" if with_time else date


def _digits(text: str, limit: int) -> str:
    match = re.search(r"-?\d+(\.\d+)?", text)
    return match.group(0)[:limit] if match else "0"


def _ascii(text: str, limit: int) -> str:
    kept = "".join(ch for ch in text if 0x21 <= ord(ch) <= 0x7E)
    return (kept or "-")[:limit]


def _phrase(text: str) -> str:
    kept = "".join(_CJK.findall(text))
    return (kept or "通知")[:5]


def _name(text: str) -> str:
    text = text.strip()
    if _CJK.search(text):
        return "".join(ch for ch in text if _CJK.match(ch) or ch == "·")[:10] or "用户"
    kept = "".join(ch for ch in text if ch.isascii() and (ch.isalpha() or ch == " ")).strip()
    return kept[:20] or "User"


FITTERS: dict[str, Any] = {
    "thing": lambda v: _cut(v, 20) or "-",
    "number": lambda v: _digits(v, 32),
    "letter": lambda v: ("".join(ch for ch in v if ch.isascii() and ch.isalpha()) or "A")[:32],
    "symbol": lambda v: _cut(v, 5) or "-",
    "character_string": lambda v: _ascii(v, 32),
    "time": lambda v: _as_time(v),
    "date": lambda v: _as_time(v, with_time=False),
    "amount": lambda v: _digits(v, 11),
    "phone_number": lambda v: ("".join(ch for ch in v if ch.isdigit() or ch in "+-") or "-")[:17],
    "car_number": lambda v: _cut(v, 8) or "-",
    "name": _name,
    "phrase": _phrase,
}


def render(
    template: Template, *, title: str, body: str, created_at: datetime, params: dict[str, Any]
) -> dict[str, str]:
    """The template's ``data`` for one notification: ``{title}``, ``{body}``, ``{time}`` and the
    notification's params filled in, each value fitted to its field's WeChat type."""
    values = _Values({key: "" if value is None else str(value) for key, value in params.items()})
    values.update(title=title, body=body, time=created_at.isoformat())
    out = {}
    for name, pattern in template.data.items():
        text = string.Formatter().vformat(pattern, (), values)
        fit = FITTERS.get(template.fields.get(name, "thing"), FITTERS["thing"])
        out[name] = fit(text)
    return out
