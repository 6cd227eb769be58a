"""Activities and their shifts: ``/activities…`` and ``/shifts/{id}``."""

from __future__ import annotations

from ninja import Query, Router, Status

from api.auth import signed_in_or_anonymous
from api.schemas import ERRORS
from api.throttles import ClientIpThrottle
from api.volunteers.schemas import (
    ActivityFilters,
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ShiftIn,
    ShiftOut,
    ShiftPatch,
    ShiftSeriesIn,
    ShiftSeriesOut,
)
from api.wechat.content import CONTENT_CHECKED
from backend.volunteers import search, selectors, services
from backend.volunteers.permissions import (
    Action,
    activity_access,
    activity_detail_access,
    organisation_access,
    shift_access,
)

router = Router()


@router.post("/activities", response={201: ActivityOut, **ERRORS}, openapi_extra=CONTENT_CHECKED)
def activity_create(request, payload: ActivityIn):
    """A draft activity of an organisation the caller coordinates."""
    org = organisation_access(user=request.auth, organisation_id=payload.organisation_id, hide=False)
    activity = services.activity_create(
        by=request.auth, organisation=org, **payload.dict(exclude={"organisation_id"})
    )
    return Status(201, activity_detail_access(user=request.auth, activity_id=activity.pk))


def _public_throttle() -> ClientIpThrottle:
    return ClientIpThrottle(setting="LINLI_PUBLIC_BROWSE_RATE", scope="volunteers-public")


@router.get("/activities", response={200: ActivityPage, **ERRORS}, auth=None, throttle=[_public_throttle()])
def activity_list(request, filters: Query[ActivityFilters]):
    """Published activities with upcoming shifts (in ``from``..``to``) and their remaining places;
    no sign-in needed. Search: ``q`` (Chinese substring over title and description), ``lat`` +
    ``lon`` (+ ``radius_km``, ``coord``) for nearest first with ``distance_m``, ``skills``,
    ``programme``, ``division``, ``organisation_id``, ``has_space``. Cursor pages (pass
    ``next_cursor`` back with the same filters)."""
    signed_in_or_anonymous(request)  # a stale token answers 401, as everywhere else
    near = search.near_from(
        lat=filters.lat, lon=filters.lon, radius_km=filters.radius_km, coord=filters.coord
    )
    query = selectors.ActivityQuery(
        q=filters.q,
        skills=[s.strip() for s in filters.skills.split(",") if s.strip()][:10],
        near=near,
        programme=filters.programme,
        division=filters.division,
        date_from=filters.from_,
        date_to=filters.to,
        has_space=filters.has_space,
        organisation_id=filters.organisation_id,
    )
    return selectors.activity_list(query=query, cursor=filters.cursor, limit=filters.limit)


@router.get(
    "/activities/{activity_id}",
    response={200: ActivityOut, **ERRORS},
    auth=None,
    throttle=[_public_throttle()],
)
def activity_detail(request, activity_id: int):
    """An activity with its shifts and places left (no sign-up lists). Without sign-in: published
    activities only; drafts to their coordinators."""
    return activity_detail_access(user=signed_in_or_anonymous(request), activity_id=activity_id)


@router.post("/activities/{activity_id}/publish", response={200: ActivityOut, **ERRORS})
def activity_publish(request, activity_id: int):
    """Publish a draft; only future activities (every shift in the future) can be published."""
    activity = activity_access(user=request.auth, activity_id=activity_id)
    services.activity_publish(activity=activity, by=request.auth)
    return activity_detail_access(user=request.auth, activity_id=activity_id)


@router.post("/activities/{activity_id}/shifts", response={201: ShiftOut, **ERRORS})
def shift_create(request, activity_id: int, payload: ShiftIn):
    activity = activity_access(user=request.auth, activity_id=activity_id)
    return Status(201, services.shift_create(activity=activity, by=request.auth, **payload.dict()))


@router.post("/activities/{activity_id}/shift-series", response={201: ShiftSeriesOut, **ERRORS})
def series_create(request, activity_id: int, payload: ShiftSeriesIn):
    """A weekly rule; occurrences are generated now and kept ahead by the scheduler."""
    activity = activity_access(user=request.auth, activity_id=activity_id)
    series, shifts = services.shift_series_create(activity=activity, by=request.auth, **payload.dict())
    return Status(201, ShiftSeriesOut.of(series, created=shifts))


@router.patch("/shifts/{shift_id}", response={200: ShiftOut, **ERRORS})
def shift_patch(request, shift_id: int, payload: ShiftPatch):
    shift = shift_access(user=request.auth, shift_id=shift_id, action=Action.SHIFT_MANAGE)
    return services.shift_capacity_set(shift=shift, capacity=payload.capacity, by=request.auth)
