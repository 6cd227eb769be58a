"""Notification kinds: each domain registers its kinds (Chinese templates, category, deep link).

Categories decide preferences and quiet hours: ``decision`` and ``assignment`` always reach the
user; ``reminder`` and ``info`` may be turned off, and reminders wait out quiet hours unless the
notification is urgent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["decision", "assignment", "reminder", "info"]


@dataclass(frozen=True)
class Kind:
    name: str
    category: Category
    title: str  # str.format template, Chinese
    body: str
    link: str = ""  # mini-program deep link path template, e.g. "/pages/filing/detail?id={object_id}"


_kinds: dict[str, Kind] = {}


def register_kind(name: str, *, category: Category, title: str, body: str, link: str = "") -> Kind:
    kind = Kind(name=name, category=category, title=title, body=body, link=link)
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
