"""WGS-84 <-> GCJ-02 and the grid cells that serve search by distance (pure functions)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.geo import (
    bounding_box,
    gcj02_to_wgs84,
    geocell,
    geocell_ranges,
    haversine_m,
    to_wgs84,
    wgs84_to_gcj02,
)

# Published reference pairs (WGS-84 -> GCJ-02) of the open implementations of the transform.
KNOWN = [
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),  # Beijing, Tiananmen
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]

in_china = st.tuples(st.floats(18.2, 53.5), st.floats(73.7, 134.7))


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_known_points_convert_both_ways(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-7)  # the inverse is iterative
    assert to_wgs84(*gcj, "gcj02") == pytest.approx(wgs, abs=1e-7)


def test_no_offset_outside_china():
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)
    assert gcj02_to_wgs84(-33.8568, 151.2153) == (-33.8568, 151.2153)


@settings(max_examples=300, deadline=None)
@given(in_china)
def test_round_trip_is_within_a_centimetre(point):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert haversine_m(*point, *back) < 0.01


@settings(max_examples=300, deadline=None)
@given(in_china)
def test_offset_in_china_is_a_few_hundred_metres_at_most(point):
    assert haversine_m(*point, *wgs84_to_gcj02(*point)) < 1000


def test_haversine_one_degree_of_latitude():
    assert haversine_m(22.0, 114.0, 23.0, 114.0) == pytest.approx(111_195, rel=1e-4)


@settings(max_examples=300, deadline=None)
@given(in_china, st.floats(0, 2 * math.pi), st.floats(0.05, 0.99), st.floats(100, 50_000))
def test_every_point_within_the_radius_lies_in_a_covered_cell(centre, bearing, fraction, radius):
    """Whatever the centre and radius, a point inside the circle is in one of the ranges."""
    lat0, lon0 = centre
    d = radius * fraction / 6_371_008.8
    p1, l1 = math.radians(lat0), math.radians(lon0)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    lat, lon = math.degrees(p2), math.degrees(l2)
    assert haversine_m(lat0, lon0, lat, lon) <= radius
    cell = geocell(lat, lon)
    assert any(low <= cell <= high for low, high in geocell_ranges(bounding_box(lat0, lon0, radius)))


def test_a_5_km_circle_reads_a_handful_of_cell_rows():
    ranges = geocell_ranges(bounding_box(22.54, 114.05, 5000))
    assert 4 <= len(ranges) <= 6
    assert all(high - low <= 6 for low, high in ranges)
