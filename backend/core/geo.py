"""Points on the Earth: pure functions, no Django.

- Distances: :func:`haversine_m` (great circle on the mean Earth radius).
- Datums: coordinates are stored in WGS-84. Phones in China usually report GCJ-02 (the "Mars"
  datum every Chinese map SDK uses, including the mini-program's ``wx.getLocation({type:
  "gcj02"})``); :func:`to_wgs84` converts what a client declares. The transform is the public
  GCJ-02 obfuscation formula; outside mainland China there is no offset.
- Search by distance: :func:`bounding_box` around a point and :func:`geocell` (a 0.02-degree grid
  cell number, about 2.2 km north-south) stored in an indexed column; :func:`geocell_ranges` names
  the cells covering a box as one ``BETWEEN`` per grid row, so a radius query reads only the rows
  of nearby cells and computes the exact distance on those candidates.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

WGS84 = "wgs84"
GCJ02 = "gcj02"
DATUMS = (WGS84, GCJ02)

# -- distances -----------------------------------------------------------------------------------


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# -- GCJ-02 ----------------------------------------------------------------------------------------
# The public GCJ-02 obfuscation (Krasovsky 1940 ellipsoid constants), as published in many open
# implementations (e.g. eviltransform, coordtransform). Outside mainland China there is no offset.

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def out_of_china(lat: float, lon: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lat: float, lon: float) -> tuple[float, float]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _gcj_delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Invert the GCJ-02 offset by fixed-point iteration (converges to < 1e-9° in a few steps)."""
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = lat - glat, lon - glon
        wlat += dlat
        wlon += dlon
        if abs(dlat) < 1e-10 and abs(dlon) < 1e-10:
            break
    return wlat, wlon


def to_wgs84(lat: float, lon: float, datum: str) -> tuple[float, float]:
    if datum == GCJ02:
        return gcj02_to_wgs84(lat, lon)
    if datum == WGS84:
        return lat, lon
    raise ValueError(f"unknown datum {datum!r}")


# -- search by distance ------------------------------------------------------------------------------

CELL_DEG = 0.02
_CELL_ROW = 100_000  # cell number = row * _CELL_ROW + column (columns < 18,000)
_M_PER_DEG_LAT = math.radians(1) * EARTH_RADIUS_M


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """``(min_lat, max_lat, min_lon, max_lon)`` holding every point within ``radius_m``."""
    dlat = radius_m / _M_PER_DEG_LAT
    coslat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = min(radius_m / (_M_PER_DEG_LAT * coslat), 180.0)
    return max(lat - dlat, -90.0), min(lat + dlat, 90.0), max(lon - dlon, -180.0), min(lon + dlon, 180.0)


def _row(lat: float) -> int:
    return min(int((lat + 90.0) // CELL_DEG), int(180 / CELL_DEG) - 1)


def _col(lon: float) -> int:
    return min(int((lon + 180.0) // CELL_DEG), int(360 / CELL_DEG) - 1)


def geocell(lat: float, lon: float) -> int:
    """The grid cell of a WGS-84 point."""
    return _row(lat) * _CELL_ROW + _col(lon)


def geocell_ranges(box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """Inclusive cell-number ranges (one per grid row) that cover ``box``."""
    min_lat, max_lat, min_lon, max_lon = box
    first, last = _col(min_lon), _col(max_lon)
    return [
        (row * _CELL_ROW + first, row * _CELL_ROW + last) for row in range(_row(min_lat), _row(max_lat) + 1)
    ]
