"""Builders for the rivers tests: divisions, organisations, volunteers, segments and real-shaped
GPS tracks."""

from __future__ import annotations

import io
import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from PIL import Image

from backend.accounts.models import Grant, Role, ScopeType
from backend.core.crypto import blind_index, seal
from backend.core.validators import resident_id_check_char
from backend.divisions.models import Division
from backend.rivers import services
from backend.rivers.geo import EARTH_RADIUS_M, wgs84_to_gcj02
from backend.rivers.models import River, RiverSegment, StewardAssignment
from backend.volunteers.models import Organisation, VolunteerProfile
from backend.volunteers.services import ID_INDEX_PURPOSE, ID_PURPOSE
from tests.factories import UserFactory

STREET = "440309002"  # 民治街道
OTHER_STREET = "440309001"  # 观澜? any sibling street
DISTRICT = "440309"
OTHER_DISTRICT = "440306"

# Near the 大浪/民治 stretch of the 观澜河 (WGS-84).
ORIGIN = (22.6280, 114.0300)

_seq = iter(range(1, 10**6))


def divisions() -> Division:
    province, _ = Division.objects.get_or_create(code="44", defaults={"name": "广东省", "level": 1})
    city, _ = Division.objects.get_or_create(
        code="4403", defaults={"name": "深圳市", "level": 2, "parent": province}
    )
    district, _ = Division.objects.get_or_create(
        code=DISTRICT, defaults={"name": "龙华区", "level": 3, "parent": city}
    )
    Division.objects.get_or_create(
        code=OTHER_DISTRICT, defaults={"name": "宝安区", "level": 3, "parent": city}
    )
    Division.objects.get_or_create(
        code=OTHER_STREET, defaults={"name": "观湖街道", "level": 4, "parent": district}
    )
    street, _ = Division.objects.get_or_create(
        code=STREET, defaults={"name": "民治街道", "level": 4, "parent": district}
    )
    return street


def organisation(name: str = "龙华河小二志愿服务队") -> Organisation:
    return Organisation.objects.create(name=name, division=divisions(), contact_name="李经办")


def grant(user, role: str, scope_type: str, scope_id) -> None:
    Grant.objects.create(user=user, role=role, scope_type=scope_type, scope_id=str(scope_id))


def coordinator_of(org: Organisation, **kwargs):
    user = UserFactory(**kwargs)
    grant(user, Role.COORDINATOR, ScopeType.ORGANISATION, org.pk)
    return user


def handler_of(code: str, **kwargs):
    """Division staff (a reviewer grant): river managers and issue handlers."""
    user = UserFactory(**kwargs)
    grant(user, Role.REVIEWER, ScopeType.DIVISION, code)
    return user


def volunteer(name: str = "张小三", **kwargs):
    user = UserFactory(**kwargs)
    n = next(_seq)
    first17 = f"440309{date(1990, 5, 1):%Y%m%d}{(n % 499) * 2 + 1:03d}"
    number = first17 + resident_id_check_char(first17)
    VolunteerProfile.objects.create(
        user=user,
        volunteer_no=f"4403{user.pk:09d}",
        real_name=name,
        id_number_sealed=seal(number, purpose=ID_PURPOSE),
        id_number_index=blind_index(number + str(user.pk), purpose=ID_INDEX_PURPOSE),
        birth_date=date(1990, 5, 1),
        gender="male",
        mobile="13800138000",
        division=divisions(),
    )
    return user


# -- geometry ------------------------------------------------------------------------------------


def offset(lat0: float, lon0: float, north_m: float, east_m: float) -> tuple[float, float]:
    dlat = north_m / EARTH_RADIUS_M
    dlon = east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat0)))
    return lat0 + math.degrees(dlat), lon0 + math.degrees(dlon)


# The river's course in local metres (north, east): a gentle S-bend, ≈ 1.6 km long.
RIVER_COURSE_M = [(0, 0), (300, 60), (600, 40), (850, 180), (1100, 260), (1350, 200), (1600, 260)]


def river_line(origin: tuple[float, float] = ORIGIN) -> list[list[float]]:
    """GeoJSON coordinates ([lon, lat]) of the river course."""
    return [[round(lon, 7), round(lat, 7)] for lat, lon in (offset(*origin, n, e) for n, e in RIVER_COURSE_M)]


def _interpolate(course: list[tuple[float, float]], distance: float) -> tuple[float, float]:
    walked = 0.0
    for (n1, e1), (n2, e2) in itertools.pairwise(course):
        step = math.hypot(n2 - n1, e2 - e1)
        if walked + step >= distance:
            t = (distance - walked) / step
            return n1 + t * (n2 - n1), e1 + t * (e2 - e1)
        walked += step
    return course[-1]


def course_length(course: list[tuple[float, float]]) -> float:
    return sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(course))


@dataclass
class Fix:
    at: datetime
    lat: float
    lon: float
    accuracy: float

    def json(self, datum: str = "wgs84") -> dict:
        lat, lon = (self.lat, self.lon) if datum == "wgs84" else wgs84_to_gcj02(self.lat, self.lon)
        return {"lat": lat, "lon": lon, "accuracy": self.accuracy, "time": self.at.isoformat()}


@dataclass
class Walk:
    fixes: list[Fix]
    true_length_m: float
    teleport_index: int
    poor_indexes: list[int]


def riverside_walk(
    *,
    length_m: float = 1500.0,
    speed_mps: float = 1.3,
    every_s: int = 5,
    noise_m: float = 3.0,
    start: datetime | None = None,
    teleport: bool = True,
    poor_fixes: int = 3,
    bank_m: float = 15.0,
    seed: int = 8,
) -> Walk:
    """A walk along the river bank (``bank_m`` east of the course) with Gaussian GPS noise,
    a few fixes of poor accuracy (far off, accuracy 80 m) and one teleport 3 km away."""
    rng = random.Random(seed)
    start = start or timezone.now().replace(microsecond=0) - timedelta(hours=1)
    course = RIVER_COURSE_M
    steps = int(length_m / (speed_mps * every_s)) + 1
    fixes = []
    for i in range(steps):
        d = min(i * speed_mps * every_s, length_m)
        n, e = _interpolate(course, d)
        lat, lon = offset(*ORIGIN, n + rng.gauss(0, noise_m), e + bank_m + rng.gauss(0, noise_m))
        fixes.append(Fix(start + timedelta(seconds=i * every_s), lat, lon, round(rng.uniform(4, 15), 1)))
    teleport_index = -1
    if teleport:
        teleport_index = len(fixes) // 2
        f = fixes[teleport_index]
        lat, lon = offset(f.lat, f.lon, 3000, -2000)
        fixes[teleport_index] = Fix(f.at, lat, lon, 8.0)
    poor = []
    for k in range(poor_fixes):
        idx = 10 + k * 37
        f = fixes[idx]
        lat, lon = offset(f.lat, f.lon, 120, 90)
        fixes[idx] = Fix(f.at, lat, lon, 80.0)
        poor.append(idx)
    true_length = min(length_m, course_length(course))
    return Walk(fixes, true_length, teleport_index, poor)


# -- rivers ---------------------------------------------------------------------------------------


def river_with_segment(*, division_code: str = STREET, every_days: int = 7) -> RiverSegment:
    divisions()
    river = River.objects.create(name="观澜河")
    river.divisions.add(division_code)
    return services.segment_create(
        actor=None,
        river=river,
        name="民治段",
        division_code=division_code,
        geometry={"type": "LineString", "coordinates": river_line()},
        patrol_every_days=every_days,
    )


def river_chief(segment: RiverSegment, org: Organisation | None = None, **kwargs):
    org = org or organisation()
    user = volunteer(**kwargs)
    StewardAssignment.objects.create(
        segment=segment, organisation=org, kind=StewardAssignment.Kind.RIVER_CHIEF, user=user
    )
    return user


def jpeg_with_gps(lat: float = 22.6301, lon: float = 114.0321) -> bytes:
    """A JPEG whose EXIF carries a GPS position (as phone cameras write it)."""
    from PIL.TiffImagePlugin import IFDRational

    def dms(value: float) -> tuple:
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 1000)
        return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 1000))

    image = Image.new("RGB", (64, 48), (90, 140, 70))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = dms(lat)
    gps[3] = "E"
    gps[4] = dms(lon)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the input really has GPS
    return data
