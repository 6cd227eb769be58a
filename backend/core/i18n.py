"""Bilingual messages: Chinese by default, English when the client asks for it.

Error messages are short and fixed, so each carries both languages (``T("中文", "English")``)
rather than going through gettext catalogues; the language is picked per request from
``Accept-Language`` (HTTP and websocket alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ZH = "zh"
EN = "en"


@dataclass(frozen=True, slots=True)
class T:
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == EN else self.zh

    def format(self, **kwargs: object) -> T:
        return T(self.zh.format(**kwargs), self.en.format(**kwargs))


def lang_from_header(accept_language: str | None) -> str:
    """The language of the preferred supported entry in ``Accept-Language`` (q-values honoured)."""
    if not accept_language:
        return ZH
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in (ZH, EN) and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else ZH


def localize(value: Any, lang: str) -> Any:
    """Replace every ``T`` inside dicts and lists by its text in ``lang``."""
    if isinstance(value, T):
        return value.get(lang)
    if isinstance(value, dict):
        return {key: localize(item, lang) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize(item, lang) for item in value]
    return value


def request_lang(request: object) -> str:
    headers = getattr(request, "headers", None)
    return lang_from_header(headers.get("Accept-Language") if headers is not None else None)


def scope_lang(scope: dict) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return lang_from_header(value.decode("latin-1"))
    return ZH


def choice_label(obj: Any, field: str, lang: str, english: dict[str, str] | None = None) -> str:
    """The label of a choice field in ``lang``: the model's (Chinese) label, or in English the
    entry of ``english`` for the value, else the value in words (``garbage_dumping`` ->
    ``Garbage dumping``)."""
    value = getattr(obj, field)
    if lang != "en":
        return str(getattr(obj, f"get_{field}_display")())
    if english and value in english:
        return english[value]
    return str(value).replace("_", " ").capitalize()


def context_lang(context: Any) -> str:
    """The language of the request in a django-ninja resolver's ``context``."""
    request = (context or {}).get("request")
    return request_lang(request) if request is not None else ZH
