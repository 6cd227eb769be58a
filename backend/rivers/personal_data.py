"""The rivers domain's part of a person's data rights: patrols (GPS tracks) and issue reports.

Cancellation keeps patrols' figures (they back service records) and reported issues under the
pseudonym; the GPS tracks (sensitive personal information) and the camera positions of the
person's photos are deleted."""

from __future__ import annotations

from typing import Any

from backend.accounts.hooks import DataSection, account_erasing, iso, personal_data
from backend.core.i18n import T
from backend.rivers.models import Patrol, PatrolPoint, RiverIssue, RiverPhoto


@personal_data.register
def rivers_data(user: Any) -> list[DataSection]:
    return [
        DataSection(
            key="rivers",
            title=T("巡河与问题上报", "River patrols and issue reports"),
            purpose=T(
                "记录你的巡河（轨迹用于核定有效巡河和服务时数）和上报的问题。",
                "Your patrols (the track decides validity and hours) and the issues you reported.",
            ),
            data={
                "patrols": [
                    {
                        "segment_id": p.segment_id,
                        "started_at": iso(p.started_at),
                        "finished_at": iso(p.finished_at),
                        "distance_m": p.distance_m,
                        "duration_s": p.duration_s,
                        "valid": p.is_valid,
                        "track": p.track,
                        "points": [
                            {"at": iso(pt.recorded_at), "lat": pt.lat, "lon": pt.lon} for pt in p.points.all()
                        ],
                    }
                    for p in Patrol.objects.filter(user=user).prefetch_related("points").order_by("pk")
                ],
                "issues": [
                    {
                        "id": i.pk,
                        "type": i.type,
                        "status": i.status,
                        "description": i.description,
                        "reported_at": iso(i.reported_at),
                    }
                    for i in RiverIssue.objects.filter(reporter=user).order_by("pk")
                ],
            },
            kept_after_cancellation=T(
                "巡河的时长、距离和上报的问题保留（假名）；轨迹和照片定位删除。",
                "Patrol figures and reported issues are kept (pseudonym); tracks and photo positions are deleted.",
            ),
        )
    ]


@account_erasing.register
def rivers_erasing(user: Any, pseudonym: str) -> None:
    PatrolPoint.objects.filter(patrol__user=user).delete()
    Patrol.objects.filter(user=user).update(track={})
    RiverPhoto.objects.filter(uploaded_by=user).update(gps_sealed="")
