"""A static map of a patrol for the mini-program's list: the track on a plain grid, start and end
marked. Pure Pillow, no tiles (no third-party map service sees the track)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from backend.rivers.geo import LocalProjection

BACKGROUND = (246, 248, 250)
GRID = (221, 227, 234)
TRACK = (24, 119, 242)
START = (22, 163, 74)
END = (220, 38, 38)
OUTLINE = (255, 255, 255)


def render_track_png(
    coords: Sequence[Sequence[float]],
    *,
    size: tuple[int, int] = (320, 240),
    padding: int = 16,
    grid_step: int = 40,
    river: Sequence[Sequence[float]] | None = None,
) -> bytes:
    """PNG of a GeoJSON line (``[[lon, lat], ...]``), scaled to fit with its aspect kept.

    ``river`` (the segment's own line, optional) is drawn faintly under the track.
    """
    width, height = size
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, grid_step):
        draw.line([(x, 0), (x, height)], fill=GRID, width=1)
    for y in range(0, height, grid_step):
        draw.line([(0, y), (width, y)], fill=GRID, width=1)
    if not coords:
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()

    everything = [(c[1], c[0]) for c in coords] + [(c[1], c[0]) for c in (river or [])]
    proj = LocalProjection.around(everything)
    track_xy = [proj.xy(c[1], c[0]) for c in coords]
    river_xy = [proj.xy(c[1], c[0]) for c in (river or [])]
    xs = [p[0] for p in track_xy + river_xy]
    ys = [p[1] for p in track_xy + river_xy]
    span_x = max(max(xs) - min(xs), 1.0)
    span_y = max(max(ys) - min(ys), 1.0)
    scale = min((width - 2 * padding) / span_x, (height - 2 * padding) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2
    min_x, min_y = min(xs), min(ys)

    def pixel(p: tuple[float, float]) -> tuple[float, float]:
        # Image y grows downwards, north is up.
        return off_x + (p[0] - min_x) * scale, height - (off_y + (p[1] - min_y) * scale)

    if len(river_xy) >= 2:
        draw.line([pixel(p) for p in river_xy], fill=(150, 200, 230), width=6, joint="curve")
    track_px = [pixel(p) for p in track_xy]
    if len(track_px) >= 2:
        draw.line(track_px, fill=TRACK, width=3, joint="curve")
    for (cx, cy), colour in ((track_px[0], START), (track_px[-1], END)):
        r = 6
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour, outline=OUTLINE, width=2)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
