"""Track maths on real-shaped tracks: distance, cleaning, GCJ-02, simplification, the map image."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from backend.rivers import geo
from backend.rivers.geo import CleanRules, TrackPoint, clean_track
from backend.rivers.mapimage import END, START, TRACK, render_track_png
from tests.rivers import factories as f


def _points(walk: f.Walk) -> list[TrackPoint]:
    return [TrackPoint(at=x.at, lat=x.lat, lon=x.lon, accuracy_m=x.accuracy) for x in walk.fixes]


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude on the mean sphere is 111.195 km.
    assert geo.haversine_m(22.0, 114.0, 23.0, 114.0) == pytest.approx(111_195, rel=1e-4)
    assert geo.haversine_m(22.5, 114.0, 22.5, 114.0) == 0


def test_gcj02_matches_the_published_reference_vector() -> None:
    # wgs84togcj02(116.404, 39.915) from the open coordtransform implementation.
    lat, lon = geo.wgs84_to_gcj02(39.915, 116.404)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)


def test_gcj02_to_wgs84_inverts_the_offset_to_centimetres_in_shenzhen() -> None:
    glat, glon = geo.wgs84_to_gcj02(*f.ORIGIN)
    assert 300 < geo.haversine_m(*f.ORIGIN, glat, glon) < 800  # the visible "Mars" shift
    back = geo.gcj02_to_wgs84(glat, glon)
    assert geo.haversine_m(*f.ORIGIN, *back) < 0.01


def test_points_outside_china_are_not_shifted() -> None:
    assert geo.gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)


def test_noisy_riverside_walk_measures_close_to_its_true_length() -> None:
    walk = f.riverside_walk(teleport=False, poor_fixes=0)
    track = clean_track(_points(walk))
    assert track.distance_m == pytest.approx(walk.true_length_m, rel=0.03)
    assert track.duration_s == int((walk.fixes[-1].at - walk.fixes[0].at).total_seconds())


def test_raw_sum_over_noise_would_overcount_so_the_gate_matters() -> None:
    walk = f.riverside_walk(teleport=False, poor_fixes=0, noise_m=5)
    pts = _points(walk)
    raw = sum(geo.haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(pts))
    gated = clean_track(pts).distance_m
    assert raw > walk.true_length_m * 1.15
    assert gated == pytest.approx(walk.true_length_m, rel=0.04)


def test_teleport_point_is_dropped_and_does_not_add_kilometres() -> None:
    walk = f.riverside_walk(teleport=True, poor_fixes=0)
    track = clean_track(_points(walk))
    assert track.dropped_speed == 1
    teleport = walk.fixes[walk.teleport_index]
    assert all(p.at != teleport.at for p in track.points)
    assert track.distance_m == pytest.approx(walk.true_length_m, rel=0.03)


def test_poor_accuracy_fixes_are_dropped() -> None:
    walk = f.riverside_walk(teleport=False, poor_fixes=3)
    track = clean_track(_points(walk), CleanRules(max_accuracy_m=50))
    assert track.dropped_accuracy == 3
    assert track.distance_m == pytest.approx(walk.true_length_m, rel=0.03)


def test_a_wild_first_fix_does_not_throw_the_track_away() -> None:
    walk = f.riverside_walk(teleport=False, poor_fixes=0)
    pts = _points(walk)
    first = pts[0]
    lat, lon = f.offset(first.lat, first.lon, 5000, 0)
    pts[0] = TrackPoint(at=first.at, lat=lat, lon=lon, accuracy_m=10)
    track = clean_track(pts)
    assert track.dropped_speed == 1
    assert len(track.points) == len(pts) - 1
    assert track.distance_m == pytest.approx(walk.true_length_m, rel=0.03)


def test_out_of_order_and_repeated_points_give_the_same_track() -> None:
    pts = _points(f.riverside_walk())
    shuffled = list(reversed(pts)) + pts[:40]
    a, b = clean_track(pts), clean_track(shuffled)
    assert b.dropped_duplicate == 40
    assert a.distance_m == pytest.approx(b.distance_m)
    assert [p.at for p in a.points] == [p.at for p in b.points]


def test_douglas_peucker_drops_collinear_points_and_keeps_corners() -> None:
    lat0, lon0 = f.ORIGIN
    straight = [f.offset(lat0, lon0, i * 10, 0) for i in range(50)]
    assert geo.douglas_peucker(straight, 1.0) == [0, 49]
    corner = straight[:25] + [f.offset(lat0, lon0, 240, i * 10) for i in range(1, 25)]
    kept = geo.douglas_peucker(corner, 1.0)
    assert kept == [0, 24, len(corner) - 1]


def test_simplified_track_is_a_geojson_linestring_much_smaller_than_the_input() -> None:
    track = clean_track(_points(f.riverside_walk()))
    line = geo.simplified_geojson(track.points, 5.0)
    assert line["type"] == "LineString"
    assert 2 <= len(line["coordinates"]) < len(track.points) / 2
    first = line["coordinates"][0]
    assert first == [round(track.points[0].lon, 6), round(track.points[0].lat, 6)]


def test_map_png_has_the_size_and_the_drawn_track_and_markers() -> None:
    track = clean_track(_points(f.riverside_walk()))
    coords = geo.simplified_geojson(track.points, 5.0)["coordinates"]
    png = render_track_png(coords, size=(320, 240), river=f.river_line())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (320, 240)
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1 << 16)}
    counts = dict((c, n) for n, c in image.convert("RGB").getcolors(maxcolors=1 << 16))
    assert counts.get(TRACK, 0) > 300  # ≈ 1.5 km of 3-px line across the image
    assert START in colours and END in colours
    # The start marker sits where the walk starts: south (bottom) of the end marker.
    rgb = image.convert("RGB")
    ys = {
        colour: [y for y in range(240) for x in range(320) if rgb.getpixel((x, y)) == colour]
        for colour in (START, END)
    }
    assert sum(ys[START]) / len(ys[START]) > sum(ys[END]) / len(ys[END])


def test_empty_track_still_renders_the_grid() -> None:
    image = Image.open(io.BytesIO(render_track_png([], size=(200, 100))))
    assert image.size == (200, 100)
    assert TRACK not in {c for _, c in image.convert("RGB").getcolors()}


def test_zero_time_jump_counts_as_impossible_speed() -> None:
    t = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    pts = [
        TrackPoint(t, 22.6, 114.0, 5),
        TrackPoint(t + timedelta(seconds=10), 22.6001, 114.0, 5),
        TrackPoint(t + timedelta(seconds=20), 22.6002, 114.0, 5),
        TrackPoint(t + timedelta(seconds=21), 22.7, 114.0, 5),
        TrackPoint(t + timedelta(seconds=30), 22.6003, 114.0, 5),
    ]
    assert len(clean_track(pts).points) == 4
