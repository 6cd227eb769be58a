from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import NotFound, ValidationFailed
from backend.core.i18n import T
from backend.divisions.models import Division

DATA_DIR = Path(__file__).resolve().parent / "data"
FILES = (
    ("provinces.csv", Division.Level.PROVINCE, None),
    ("cities.csv", Division.Level.CITY, "provinceCode"),
    ("areas.csv", Division.Level.DISTRICT, "cityCode"),
    ("streets.csv", Division.Level.STREET, "areaCode"),
)


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def divisions_load(*, data_dir: Path = DATA_DIR, prefix: str = "", batch_size: int = 2000) -> LoadResult:
    """Load the national division codes (province → street), idempotently.

    One read of what is there, then bulk inserts and bulk updates of what changed: loading all
    41,352 streets takes seconds. ``prefix`` limits the load to one region (e.g. "4403").
    """
    existing = {
        code: (name, parent) for code, name, parent in Division.objects.values_list("code", "name", "parent")
    }
    to_create: list[Division] = []
    to_update: list[Division] = []
    unchanged = 0
    for filename, level, parent_column in FILES:
        with open(data_dir / filename, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row["code"].strip()
                if prefix and not (code.startswith(prefix) or prefix.startswith(code)):
                    continue
                name = row["name"].strip()
                parent = row[parent_column].strip() if parent_column else None
                current = existing.get(code)
                if current is None:
                    to_create.append(Division(code=code, name=name, level=level, parent_id=parent))
                elif current != (name, parent):
                    to_update.append(Division(code=code, name=name, level=level, parent_id=parent))
                else:
                    unchanged += 1
    with transaction.atomic():
        # Parents come first in FILES, so a batch never points at a missing row.
        Division.objects.bulk_create(to_create, batch_size=batch_size)
        if to_update:
            Division.objects.bulk_update(to_update, ["name", "level", "parent"], batch_size=batch_size)
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


def community_create(*, street_code: str, code: str, name: str, actor=None) -> Division:
    """Staff add communities (12-digit codes) under their street."""
    street = Division.objects.filter(code=street_code, level=Division.Level.STREET).first()
    if street is None:
        raise NotFound(T("找不到该街道。", "Street not found."), field="street_code")
    if not (len(code) == 12 and code.isdigit() and code.startswith(street_code)):
        raise ValidationFailed(
            errors=[
                {
                    "field": "code",
                    "code": "invalid_division_code",
                    "message": T(
                        "社区代码须为该街道代码开头的 12 位数字。",
                        "A community code is 12 digits under its street.",
                    ),
                }
            ]
        )
    name = name.strip()
    if not name:
        raise ValidationFailed(errors=[{"field": "name", "code": "required"}])
    with transaction.atomic():
        division, created = Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": Division.Level.COMMUNITY, "parent": street}
        )
        if created:
            audit_record(
                actor=actor, action="division.community_created", target=division, data={"name": name}
            )
    return division
