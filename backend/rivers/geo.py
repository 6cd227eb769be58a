"""Track geometry: pure functions, no Django.

Coordinates are WGS-84 degrees. Phones in China usually report GCJ-02 (the "Mars" datum every
Chinese map SDK uses, including the mini-program's ``wx.getLocation({type: "gcj02"})``), so
clients declare the datum and the server converts GCJ-02 to WGS-84 before storing anything.

Cleaning a track (:func:`clean_track`)
    1. sort by time, keep one point per timestamp (the first received);
    2. drop points whose reported accuracy is worse than ``max_accuracy_m``;
    3. drop points that would need an impossible speed (over ``max_speed_mps``) from the last
       kept point; a bad *first* point is recognised because it is the only one far from the
       points after it;
    4. measure the distance over a lightly smoothed line (centred moving average of
       ``smooth_window`` fixes) with a small gate: the walker's position advances only once it
       has moved ``min_step_m`` from the last counted position, so GPS jitter while standing
       still or walking slowly does not add up to phantom kilometres.

Simplification is Douglas–Peucker in a local metric projection (equirectangular around the
track's mean latitude, accurate to well under a metre over a few kilometres).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.core.geo import (  # noqa: F401 - the datum helpers live in core, re-exported
    DATUMS,
    EARTH_RADIUS_M,
    GCJ02,
    WGS84,
    gcj02_to_wgs84,
    haversine_m,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)


def line_length_m(coords: Sequence[Sequence[float]]) -> float:
    """Length of a GeoJSON coordinate list ([lon, lat] pairs)."""
    return sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(coords))


# -- local projection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection to metres around a reference point."""

    lat0: float
    lon0: float

    @property
    def _kx(self) -> float:
        return math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self._kx, (lat - self.lat0) * math.radians(1) * EARTH_RADIUS_M

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> LocalProjection:
        pts = list(points)
        if not pts:
            return cls(0.0, 0.0)
        return cls(sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def _point_segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    px, py = p
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def distance_to_line_m(lat: float, lon: float, coords: Sequence[Sequence[float]]) -> float:
    """Shortest distance in metres from a point to a GeoJSON line ([lon, lat] pairs)."""
    if not coords:
        return math.inf
    proj = LocalProjection(lat, lon)
    p = (0.0, 0.0)
    xy = [proj.xy(c[1], c[0]) for c in coords]
    if len(xy) == 1:
        return math.hypot(*xy[0])
    return min(_point_segment_distance(p, a, b) for a, b in itertools.pairwise(xy))


# -- Douglas–Peucker -------------------------------------------------------------------------------


def douglas_peucker(latlons: Sequence[tuple[float, float]], tolerance_m: float) -> list[int]:
    """Indexes of the points kept by Douglas–Peucker with ``tolerance_m`` (iterative, no recursion)."""
    n = len(latlons)
    if n <= 2:
        return list(range(n))
    proj = LocalProjection.around(latlons)
    xy = [proj.xy(lat, lon) for lat, lon in latlons]
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        first, last = stack.pop()
        worst, worst_at = -1.0, -1
        for i in range(first + 1, last):
            d = _point_segment_distance(xy[i], xy[first], xy[last])
            if d > worst:
                worst, worst_at = d, i
        if worst > tolerance_m and worst_at > 0:
            keep[worst_at] = True
            stack.append((first, worst_at))
            stack.append((worst_at, last))
    return [i for i, k in enumerate(keep) if k]


# -- track cleaning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackPoint:
    at: datetime
    lat: float  # WGS-84
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class CleanRules:
    max_accuracy_m: float = 50.0
    max_speed_mps: float = 12.0
    min_step_m: float = 10.0
    smooth_window: int = 5


@dataclass
class CleanTrack:
    points: list[TrackPoint]
    distance_m: float
    duration_s: int
    dropped_accuracy: int = 0
    dropped_speed: int = 0
    dropped_duplicate: int = 0

    @property
    def started_at(self) -> datetime | None:
        return self.points[0].at if self.points else None

    @property
    def ended_at(self) -> datetime | None:
        return self.points[-1].at if self.points else None


def _speed(a: TrackPoint, b: TrackPoint) -> float:
    seconds = abs((b.at - a.at).total_seconds())
    meters = haversine_m(a.lat, a.lon, b.lat, b.lon)
    if seconds == 0:
        return math.inf if meters > 0 else 0.0
    return meters / seconds


def _smoothed(points: Sequence[TrackPoint], window: int) -> list[tuple[float, float]]:
    """Centred moving average of the positions (GPS noise averages out; bends barely move)."""
    half = max(window, 1) // 2
    out = []
    for i in range(len(points)):
        part = points[max(0, i - half) : i + half + 1]
        out.append((sum(p.lat for p in part) / len(part), sum(p.lon for p in part) / len(part)))
    if points:  # the walk starts and ends where it really does
        out[0] = (points[0].lat, points[0].lon)
        out[-1] = (points[-1].lat, points[-1].lon)
    return out


def _gated_length(latlons: Sequence[tuple[float, float]], min_step_m: float) -> float:
    if not latlons:
        return 0.0
    distance = 0.0
    anchor = latlons[0]
    for p in latlons[1:]:
        step = haversine_m(anchor[0], anchor[1], p[0], p[1])
        if step >= min_step_m:
            distance += step
            anchor = p
    # The last stretch counts even when it is shorter than the gate.
    return distance + haversine_m(anchor[0], anchor[1], latlons[-1][0], latlons[-1][1])


def clean_track(points: Iterable[TrackPoint], rules: CleanRules | None = None) -> CleanTrack:
    rules = rules or CleanRules()
    ordered = sorted(points, key=lambda p: p.at)
    unique: list[TrackPoint] = []
    duplicates = 0
    for p in ordered:
        if unique and unique[-1].at == p.at:
            duplicates += 1
            continue
        unique.append(p)

    accurate = [p for p in unique if p.accuracy_m is None or p.accuracy_m <= rules.max_accuracy_m]
    dropped_accuracy = len(unique) - len(accurate)

    # A first point that is far from everything after it (a cold-start fix) is dropped, else it
    # would anchor the speed test and throw away the real track.
    dropped_speed = 0
    while (
        len(accurate) >= 3
        and _speed(accurate[0], accurate[1]) > rules.max_speed_mps
        and (_speed(accurate[1], accurate[2]) <= rules.max_speed_mps)
    ):
        accurate.pop(0)
        dropped_speed += 1
    kept: list[TrackPoint] = []
    for p in accurate:
        if kept and _speed(kept[-1], p) > rules.max_speed_mps:
            dropped_speed += 1
            continue
        kept.append(p)

    distance = _gated_length(_smoothed(kept, rules.smooth_window), rules.min_step_m)
    duration = int((kept[-1].at - kept[0].at).total_seconds()) if len(kept) >= 2 else 0
    return CleanTrack(
        points=kept,
        distance_m=distance,
        duration_s=duration,
        dropped_accuracy=dropped_accuracy,
        dropped_speed=dropped_speed,
        dropped_duplicate=duplicates,
    )


def simplified_geojson(track: Sequence[TrackPoint], tolerance_m: float, *, ndigits: int = 6) -> dict:
    """A GeoJSON LineString of the simplified track ([lon, lat], 6 decimals ≈ 0.1 m)."""
    latlons = [(p.lat, p.lon) for p in track]
    keep = douglas_peucker(latlons, tolerance_m)
    return {
        "type": "LineString",
        "coordinates": [[round(latlons[i][1], ndigits), round(latlons[i][0], ndigits)] for i in keep],
    }
