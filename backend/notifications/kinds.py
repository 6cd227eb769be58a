"""Notification kinds: each domain registers its kinds (Chinese templates, category, deep link).

Categories decide preferences and quiet hours: ``decision`` and ``assignment`` always reach the
user; ``reminder`` and ``info`` may be turned off, and reminders wait out quiet hours unless the
notification is urgent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Category = Literal["decision", "assignment", "reminder", "info"]


@dataclass(frozen=True)
class Kind:
    name: str
    category: Category
    title: str  # str.format template, Chinese
    body: str
    link: str = ""  # mini-program deep link path template, e.g. "/pages/filing/detail?id={object_id}"
    title_en: str = ""  # the same templates in English (the inbox follows Accept-Language)
    body_en: str = ""


_kinds: dict[str, Kind] = {}


def register_kind(
    name: str,
    *,
    category: Category,
    title: str,
    body: str,
    link: str = "",
    title_en: str = "",
    body_en: str = "",
) -> Kind:
    kind = Kind(
        name=name, category=category, title=title, body=body, link=link, title_en=title_en, body_en=body_en
    )
    existing = _kinds.get(name)
    if existing is not None and existing != kind:
        raise RuntimeError(f"Notification kind {name!r} is registered twice with different templates.")
    _kinds[name] = kind
    return kind


def get_kind(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise KeyError(f"Unknown notification kind {name!r}; register it with register_kind().") from None


def all_kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: k.name)


def localized_text(*, kind: str, params: dict[str, Any], object_id: str, lang: str) -> tuple[str, str] | None:
    """``(title, body)`` of a stored notification in ``lang``, from its kind's templates and the
    parameters it was filled with; ``None`` where the stored (Chinese) text is the answer."""
    spec = _kinds.get(kind)
    if lang != "en" or spec is None or not spec.title_en:
        return None
    values = {"object_id": object_id, **params}
    try:
        return spec.title_en.format_map(values)[:120], spec.body_en.format_map(values)
    except (KeyError, IndexError, ValueError):
        return None
