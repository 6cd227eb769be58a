"""Rivers domain settings, read with defaults (``LINLI_RIVERS_*`` in Django settings)."""

from __future__ import annotations

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def patrol_min_duration_s() -> int:
    """Default minimum duration of a valid patrol (divisions may override with a policy)."""
    return int(_get("LINLI_RIVERS_PATROL_MIN_DURATION_S", 10 * 60))


def patrol_min_distance_m() -> int:
    return int(_get("LINLI_RIVERS_PATROL_MIN_DISTANCE_M", 1000))


def patrol_max_speed_mps() -> float:
    """Faster than this between two fixes is a GPS jump (12 m/s ≈ 43 km/h: bikes and boats pass)."""
    return float(_get("LINLI_RIVERS_PATROL_MAX_SPEED_MPS", 12.0))


def patrol_max_accuracy_m() -> float:
    return float(_get("LINLI_RIVERS_PATROL_MAX_ACCURACY_M", 50.0))


def patrol_max_offset_m() -> int:
    """How far from the segment's line a point may be and still count as on the segment."""
    return int(_get("LINLI_RIVERS_PATROL_MAX_OFFSET_M", 300))


def patrol_min_on_segment_share() -> float:
    """Share of the cleaned points that must lie near the segment (when it has a geometry)."""
    return float(_get("LINLI_RIVERS_PATROL_MIN_ON_SEGMENT_SHARE", 0.5))


def patrol_min_step_m() -> float:
    return float(_get("LINLI_RIVERS_PATROL_MIN_STEP_M", 10.0))


def patrol_simplify_tolerance_m() -> float:
    return float(_get("LINLI_RIVERS_PATROL_SIMPLIFY_M", 5.0))


def patrol_max_points() -> int:
    return int(_get("LINLI_RIVERS_PATROL_MAX_POINTS", 20_000))


def patrol_batch_max_points() -> int:
    return int(_get("LINLI_RIVERS_PATROL_BATCH_MAX_POINTS", 2_000))


def patrol_clock_skew_s() -> int:
    """Points stamped further in the future than this are refused."""
    return int(_get("LINLI_RIVERS_PATROL_CLOCK_SKEW_S", 300))


def patrol_stale_after_s() -> int:
    """A recording patrol with no point for this long is finished by the ``patrols_finish_stale`` job."""
    return int(_get("LINLI_RIVERS_PATROL_STALE_AFTER_S", 6 * 3600))


def map_size() -> tuple[int, int]:
    width, height = _get("LINLI_RIVERS_MAP_SIZE", (320, 240))
    return int(width), int(height)


def photo_max_bytes() -> int:
    return int(_get("LINLI_RIVERS_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def photo_max_count() -> int:
    return int(_get("LINLI_RIVERS_PHOTO_MAX_COUNT", 6))


def issue_sla_days() -> dict[str, int]:
    """Calendar days from report to resolution, per issue type."""
    defaults = {
        "sewage_discharge": 2,
        "illegal_fishing": 1,
        "garbage_dumping": 3,
        "illegal_works": 5,
        "facility_damage": 7,
        "other": 7,
    }
    return {**defaults, **_get("LINLI_RIVERS_ISSUE_SLA_DAYS", {})}


def public_location_decimals() -> int:
    """Decimals kept in the public view of closed issues (3 ≈ 100 m)."""
    return int(_get("LINLI_RIVERS_PUBLIC_LOCATION_DECIMALS", 3))
