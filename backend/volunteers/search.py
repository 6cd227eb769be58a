"""Finding activities: what the search index holds and the filters that read it.

Two pieces, kept together because they must agree:

- upkeep (called by the activity services inside their transaction):
  :func:`activity_location` gives a new activity its post's WGS-84 point and grid cell
  (``backend.core.geo.geocell``); :func:`activity_index` writes its search tokens (character
  bigrams of title and description, and its required skills as tags; ``backend.core.textsearch``).
- reads (``selectors.activity_list`` composes them): :func:`text_q` (``q``, Chinese substring,
  served by the token table's primary key), :func:`skills_q` (any of the skills, exact),
  :func:`near_q` plus :func:`distance_expr` (``lat``/``lon``/``radius_km``: only the rows of the
  grid cells covering the circle's bounding box, then the exact haversine distance in SQL) and
  :func:`distance_page` (a keyset page in order of distance, then id).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

from backend.core.errors import ValidationFailed, field_error
from backend.core.geo import DATUMS, EARTH_RADIUS_M, bounding_box, geocell, geocell_ranges, to_wgs84
from backend.core.i18n import T
from backend.core.textsearch import index_replace, matching_q, tags_q
from backend.volunteers.models import Activity, ActivitySearchToken, ServicePost

TEXT_FIELDS = ("title", "description")
MAX_RADIUS_KM = 50.0


# --- upkeep -----------------------------------------------------------------------------------


def activity_location(post: ServicePost | None) -> dict[str, Any]:
    """The location fields of an activity at ``post`` (all None without a located post)."""
    if post is None or post.latitude is None or post.longitude is None:
        return {"latitude": None, "longitude": None, "geocell": None}
    lat, lon = float(post.latitude), float(post.longitude)
    return {"latitude": lat, "longitude": lon, "geocell": geocell(lat, lon)}


def activity_index(*, activity: Activity, created: bool = False) -> None:
    """(Re)write the activity's search tokens from its current title, description and skills."""
    index_replace(
        token_model=ActivitySearchToken,
        owner_id=activity.pk,
        texts=[getattr(activity, f) for f in TEXT_FIELDS],
        tags=activity.required_skills or [],
        created=created,
    )


# --- reads ------------------------------------------------------------------------------------


def text_q(query: str) -> Q | None:
    """Activities whose title or description contains every term of ``query``."""
    return matching_q(query, token_model=ActivitySearchToken, fields=TEXT_FIELDS)


def skills_q(skills: list[str]) -> Q | None:
    """Activities that ask for at least one of ``skills``."""
    return tags_q(skills, token_model=ActivitySearchToken)


@dataclass(frozen=True)
class Near:
    """A search circle in WGS-84 (the API converts GCJ-02 before building it)."""

    lat: float
    lon: float
    radius_m: float


def near_q(near: Near) -> Q:
    """Rows in the grid cells covering the circle's bounding box (an index range per cell row)."""
    where = Q(pk__in=[])
    for low, high in geocell_ranges(bounding_box(near.lat, near.lon, near.radius_m)):
        where |= Q(geocell__gte=low, geocell__lte=high)
    return where


def distance_expr(near: Near) -> Any:
    """The haversine distance in metres from ``near`` to the row's point, computed in SQL."""
    lat1, lon1 = Radians(Value(near.lat)), Radians(Value(near.lon))
    lat2, lon2 = Radians(F("latitude")), Radians(F("longitude"))
    half = Power(Sin((lat2 - lat1) / 2), 2) + Cos(lat1) * Cos(lat2) * Power(Sin((lon2 - lon1) / 2), 2)
    expr = Value(2 * EARTH_RADIUS_M) * ASin(Sqrt(half))
    assert isinstance(expr, CombinedExpression)
    expr.output_field = FloatField()
    return expr


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        errors=[field_error("cursor", "invalid_cursor", T("分页游标无效。", "Invalid cursor."))]
    )


def _distance_cursor(distance: float, pk: int) -> str:
    raw = json.dumps([distance, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _distance_after(cursor: str) -> tuple[float, int]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        distance, pk = value
        if not isinstance(pk, int) or isinstance(distance, bool) or not isinstance(distance, int | float):
            raise ValueError(value)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise _bad_cursor() from None
    return float(distance), pk


FIRST_RING_M = 1000.0
RING_GROWTH = 4


def _within(qs: QuerySet[Activity], *, near: Near, radius_m: float, after: tuple[float, int] | None) -> Any:
    ring = Near(lat=near.lat, lon=near.lon, radius_m=radius_m)
    found: Any = qs.filter(near_q(ring)).annotate(distance_m=distance_expr(near))
    found = found.filter(distance_m__lte=radius_m)
    if after is not None:
        distance, pk = after
        found = found.filter(Q(distance_m__gt=distance) | Q(distance_m=distance, pk__gt=pk))
    return found.order_by("distance_m", "pk")


def distance_page(
    qs: QuerySet[Activity], *, near: Near, cursor: str | None, limit: int
) -> tuple[list[Activity], str | None]:
    """A page of ``qs`` within ``near``, nearest first (ties by id), each with ``distance_m``.

    Read in growing rings (1 km beyond the cursor's distance, then 4 times wider, up to the
    radius): when a ring holds more than ``limit`` rows, those are the nearest, since everything
    outside it is farther. Where activities are dense one small ring answers, so the rows read
    follow the page, not how many activities lie within the radius; where they are sparse, a few
    more queries read few rows each (at most four)."""
    after = _distance_after(cursor) if cursor else None
    start = after[0] if after is not None else 0.0
    radius = min(near.radius_m, start + FIRST_RING_M)
    while True:
        rows: list[Activity] = list(_within(qs, near=near, radius_m=radius, after=after)[: limit + 1])
        if len(rows) > limit or radius >= near.radius_m:
            break
        radius = min(near.radius_m, start + (radius - start) * RING_GROWTH)
    more = len(rows) > limit
    rows = rows[:limit]
    last: Any = rows[-1] if rows else None
    return rows, (_distance_cursor(last.distance_m, last.pk) if more and last is not None else None)


def near_from(*, lat: float | None, lon: float | None, radius_km: float | None, coord: str) -> Near | None:
    """The search circle of the API's ``lat``, ``lon``, ``radius_km`` (default 5, at most 50)
    and ``coord`` (``wgs84`` or ``gcj02``, converted to WGS-84); ``None`` without a point.
    A half-given point or a radius alone is a 422 naming the missing field."""
    if lat is None and lon is None:
        if radius_km is not None:
            raise ValidationFailed(errors=[_required("lat"), _required("lon")])
        return None
    if lat is None or lon is None:
        raise ValidationFailed(errors=[_required("lon" if lon is None else "lat")])
    if coord not in DATUMS:
        raise ValidationFailed(
            errors=[field_error("coord", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))]
        )
    wlat, wlon = to_wgs84(lat, lon, coord)
    return Near(lat=wlat, lon=wlon, radius_m=(5.0 if radius_km is None else radius_km) * 1000)


def _required(name: str) -> dict[str, Any]:
    return field_error(
        name, "required", T("按距离查找需要同时提供纬度和经度。", "Searching by distance needs lat and lon.")
    )
