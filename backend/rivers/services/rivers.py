"""Rivers and their segments: created and drawn by division staff."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.rivers.geo import line_length_m, to_wgs84
from backend.rivers.models import River, RiverSegment
from backend.rivers.services._common import check_datum, clean_text, division_or_invalid, invalid

MAX_LINE_POINTS = 10_000


def _bad_line() -> ValidationFailed:
    return invalid(
        "geometry",
        "invalid_geometry",
        T(
            "须为 GeoJSON LineString（至少两个 [经度, 纬度] 点）。",
            "Must be a GeoJSON LineString of [lon, lat] pairs.",
        ),
    )


def _lon_lat(pair: Any) -> tuple[float, float] | None:
    """A ``[lon, lat]`` pair of finite numbers within range, else None."""
    if not isinstance(pair, (list, tuple)) or len(pair) < 2:
        return None
    lon, lat = pair[0], pair[1]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lon, lat)):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def line_geometry(geometry: dict | None, datum: str) -> dict:
    """Validate a GeoJSON LineString and return it in WGS-84 with 7 decimals ({} for none)."""
    if not geometry:
        return {}
    if not isinstance(geometry, dict) or geometry.get("type") != "LineString":
        raise _bad_line()
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not 2 <= len(coords) <= MAX_LINE_POINTS:
        raise _bad_line()
    out = []
    for pair in coords:
        lon_lat = _lon_lat(pair)
        if lon_lat is None:
            raise _bad_line()
        wlat, wlon = to_wgs84(lon_lat[1], lon_lat[0], datum)
        out.append([round(wlon, 7), round(wlat, 7)])
    return {"type": "LineString", "coordinates": out}


def _check_patrol_every_days(days: int) -> int:
    if not 1 <= days <= 366:
        raise invalid("patrol_every_days", "out_of_range", T("巡河周期须为 1 至 366 天。", "1 to 366 days."))
    return days


def river_create(
    *, actor: Any, name: str, division_codes: Sequence[str], code: str = "", description: str = ""
) -> River:
    name = clean_text(name, "name", max_length=80)
    if not division_codes:
        raise ValidationFailed(
            errors=[field_error("division_codes", "required", T("此项必填。", "Required."))]
        )
    divisions = [division_or_invalid(c, "division_codes") for c in dict.fromkeys(division_codes)]
    with transaction.atomic():
        river = River.objects.create(
            name=name, code=clean_text(code, "code", max_length=40, required=False), description=description
        )
        river.divisions.set(divisions)
        audit_record(
            actor=actor, action="river.created", target=river, data={"divisions": [d.code for d in divisions]}
        )
    return river


def segment_create(
    *,
    actor: Any,
    river: River,
    name: str,
    division_code: str,
    geometry: dict | None = None,
    datum: str = "wgs84",
    patrol_every_days: int = 7,
) -> RiverSegment:
    name = clean_text(name, "name", max_length=80)
    division = division_or_invalid(division_code)
    line = line_geometry(geometry, check_datum(datum))
    _check_patrol_every_days(patrol_every_days)
    with transaction.atomic():
        segment = RiverSegment.objects.create(
            river=river,
            name=name,
            division=division,
            geometry=line,
            length_m=round(line_length_m(line["coordinates"])) if line else 0,
            patrol_every_days=patrol_every_days,
        )
        river.divisions.add(division)
        audit_record(
            actor=actor,
            action="river_segment.created",
            target=segment,
            data={"river": river.pk, "division": division.code, "length_m": segment.length_m},
        )
    return segment


def segment_update(
    *,
    actor: Any,
    segment: RiverSegment,
    name: str | None = None,
    geometry: dict | None = None,
    datum: str = "wgs84",
    patrol_every_days: int | None = None,
) -> RiverSegment:
    changes: dict[str, Any] = {}
    if name is not None:
        segment.name = changes["name"] = clean_text(name, "name", max_length=80)
    if geometry is not None:
        line = line_geometry(geometry, check_datum(datum))
        segment.geometry = line
        segment.length_m = changes["length_m"] = round(line_length_m(line["coordinates"])) if line else 0
    if patrol_every_days is not None:
        segment.patrol_every_days = changes["patrol_every_days"] = _check_patrol_every_days(patrol_every_days)
    with transaction.atomic():
        segment.save()
        audit_record(actor=actor, action="river_segment.updated", target=segment, data=changes)
    return segment
