"""Demo river: 观澜河（演示）民治段 in the demo street. The demo coordinator's organisation
stewards it with the demo volunteer as river chief (when the volunteer is registered), the
demo volunteer has one valid offline patrol, the demo resident reported an issue that the demo
reviewer (the street's handler) can take through the workflow. Idempotent."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

from django.utils import timezone

from backend.accounts.demo import DEMO_STREET, demo_user
from backend.accounts.models import Role, ScopeType
from backend.accounts.services import grant_role
from backend.divisions.models import Division
from backend.rivers import services
from backend.rivers.models import Patrol, River, RiverIssue, StewardAssignment
from backend.volunteers.models import Organisation, VolunteerProfile
from backend.volunteers.services import organisation_create

DEMO_RIVER = "观澜河（演示）"
DEMO_ORG_NAME = "民治街道志愿服务队（演示）"
# A gentle S-bend north of 民治, [lon, lat] in WGS-84.
DEMO_LINE = [
    [114.0300, 22.6280],
    [114.0306, 22.6307],
    [114.0304, 22.6334],
    [114.0318, 22.6356],
    [114.0326, 22.6379],
    [114.0319, 22.6401],
    [114.0325, 22.6424],
]


def _walk(now):
    """Fixes every 5 s at 1.3 m/s along the demo line, 15 m east of it."""
    points = []
    t = now - timedelta(hours=2)
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(DEMO_LINE):
        dy = (lat2 - lat1) * 111_195
        dx = (lon2 - lon1) * 111_195 * math.cos(math.radians(lat1))
        steps = max(1, int(math.hypot(dx, dy) / 6.5))
        for i in range(steps):
            f = i / steps
            lat = lat1 + f * (lat2 - lat1)
            lon = lon1 + f * (lon2 - lon1) + 15 / (111_195 * math.cos(math.radians(lat1)))
            points.append((t, lat, lon))
            t += timedelta(seconds=5)
    return points


def seed(stdout) -> None:
    if not Division.objects.filter(code=DEMO_STREET).exists():
        stdout.write("rivers: skipped (divisions not loaded)")
        return
    coordinator = demo_user("coordinator")
    reviewer = demo_user("reviewer")
    grant_role(user=reviewer, role=Role.REVIEWER, scope_type=ScopeType.DIVISION, scope_id=DEMO_STREET)
    organisation = Organisation.objects.filter(division_id=DEMO_STREET).order_by("id").first()
    if organisation is None:
        organisation = organisation_create(by=coordinator, name=DEMO_ORG_NAME, division_code=DEMO_STREET)
    grant_role(
        user=coordinator,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(organisation.pk),
    )

    river = River.objects.filter(name=DEMO_RIVER).first()
    if river is None:
        river = services.river_create(actor=reviewer, name=DEMO_RIVER, division_codes=[DEMO_STREET])
    segment = river.segments.first()
    if segment is None:
        segment = services.segment_create(
            actor=reviewer,
            river=river,
            name="民治段",
            division_code=DEMO_STREET,
            geometry={"type": "LineString", "coordinates": DEMO_LINE},
            patrol_every_days=7,
        )

    volunteer = demo_user("volunteer")
    chief = ""
    if VolunteerProfile.objects.filter(user=volunteer).exists():
        if not StewardAssignment.objects.filter(
            segment=segment, user=volunteer, ended_at__isnull=True
        ).exists():
            services.steward_assign(
                actor=coordinator,
                segment=segment,
                organisation=organisation,
                kind="river_chief",
                user=volunteer,
            )
        chief = f", river chief {volunteer.phone}"
        if not Patrol.objects.filter(user=volunteer, client_id="demo-patrol-1").exists():
            now = timezone.now()
            points = [
                services.PointInput(at=t, lat=lat, lon=lon, accuracy_m=8.0) for t, lat, lon in _walk(now)
            ]
            services.patrol_upload(
                user=volunteer,
                segment=segment,
                client_id="demo-patrol-1",
                started_at=points[0].at,
                finished_at=points[-1].at,
                points=points,
            )
    resident = demo_user("resident")
    if not RiverIssue.objects.filter(river=river).exists():
        services.river_issue_report(
            reporter=resident,
            type="garbage_dumping",
            lat=22.6336,
            lon=114.0309,
            description="河岸边有人倾倒建筑垃圾（演示）。",
            segment=segment,
        )
    stdout.write(f"rivers: {river.name} segment {segment.pk}{chief}, issues handled by {reviewer.phone}")
