from __future__ import annotations

from backend.divisions.models import Division


def division_get(code: str) -> Division | None:
    return Division.objects.filter(code=code).first()


def division_ancestor_codes(code: str) -> list[str]:
    """Codes from the province down to ``code`` itself (policy lookups walk this upward)."""
    return [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]


def division_path(code: str) -> list[Division]:
    found = {d.code: d for d in Division.objects.filter(code__in=division_ancestor_codes(code))}
    return [found[c] for c in division_ancestor_codes(code) if c in found]


def division_children(code: str | None) -> list[Division]:
    return list(Division.objects.filter(parent_id=code).order_by("code"))
