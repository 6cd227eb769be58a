"""Geofenced self check-in: the post's screen shows a rotating signed QR; a volunteer with a
confirmed place scans it in the mini-program and sends their location.

The QR payload is ``LS1.<shift id>.<time step>.<mac>``: the mac is a keyed hash (the index key,
``backend.core.crypto.blind_index``) of the shift and the step, a new step every
``LINLI_VOLUNTEER_SELF_CHECKIN_QR_SECONDS`` (45 s; 30-60); the step before is still taken so a
scan at the turn succeeds. Accepted within the post's ``geofence_radius_m`` (the location in
WGS-84, or GCJ-02 with ``coord="gcj02"``) and the shift's window (check-in from
``…_EARLY_MINUTES`` before the start to the end, check-out from the start to ``…_LATE_MINUTES``
after the end). Every attempt is kept (``SelfCheckin``), refusals with their code.

Hours go through ``attendance_record`` (the service the scanner's check-out calls), by the
activity's ``hours_mode``: ``self_checkin_checkout`` at the check-out (check-in to check-out,
clipped to the shift), ``self_checkin`` when the shift has ended (check-in to the end, by the job
``volunteers.self_checkins_close``); ``scanner`` refuses self check-in.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from backend.accounts.models import User
from backend.core.crypto import blind_index
from backend.core.errors import NotFound
from backend.core.geo import haversine_m as distance_m
from backend.core.geo import to_wgs84
from backend.volunteers import conf
from backend.volunteers.errors import SELF_CHECKIN_MESSAGES, SelfCheckinRefused
from backend.volunteers.models import Activity, SelfCheckin, ServiceRecord, Shift, Signup
from backend.volunteers.services._common import _now
from backend.volunteers.services.hours import attendance_record

QR_PURPOSE = "volunteer.self_checkin_qr"
Mode = Activity.HoursMode


def _mac(shift_id: int, step: int) -> str:
    return blind_index(f"{shift_id}:{step}", purpose=QR_PURPOSE)[:24]


@dataclass(frozen=True)
class CheckinQr:
    payload: str
    expires_at: datetime
    rotates_every: int


def checkin_qr(*, shift: Shift, now: datetime | None = None) -> CheckinQr:
    """The QR the post's screen shows now (ask again at ``expires_at``)."""
    now = _now(now)
    seconds = conf.self_checkin_qr_seconds()
    step = int(now.timestamp()) // seconds
    return CheckinQr(
        payload=f"LS1.{shift.pk}.{step}.{_mac(shift.pk, step)}",
        expires_at=datetime.fromtimestamp((step + 1) * seconds, tz=UTC),
        rotates_every=seconds,
    )


def qr_problem(*, payload: str, shift_id: int, now: datetime) -> str | None:
    """``qr_invalid``, ``qr_expired`` or None (pure but for the key)."""
    parts = (payload or "").strip().split(".")
    if len(parts) != 4 or parts[0] != "LS1" or not parts[1].isdigit() or not parts[2].isdigit():
        return "qr_invalid"
    sid, step = int(parts[1]), int(parts[2])
    if sid != shift_id or not hmac.compare_digest(_mac(sid, step), parts[3]):
        return "qr_invalid"
    current = int(now.timestamp()) // conf.self_checkin_qr_seconds()
    return None if current - 1 <= step <= current else "qr_expired"


def _window_problem(*, shift: Shift, kind: str, now: datetime) -> str | None:
    if kind == SelfCheckin.Kind.IN:
        inside = shift.starts_at - conf.self_checkin_early() <= now <= shift.ends_at
    else:
        inside = shift.starts_at <= now <= shift.ends_at + conf.self_checkin_late()
    return None if inside else "outside_window"


def _mode_problem(*, activity: Activity, kind: str) -> str | None:
    if activity.hours_mode == Mode.SCANNER:
        return "self_checkin_disabled"
    if kind == SelfCheckin.Kind.OUT and activity.hours_mode == Mode.SELF_CHECKIN:
        return "self_checkin_disabled"
    post = activity.post
    if post is None or post.latitude is None or post.longitude is None:
        return "self_checkin_disabled"
    return None


def _refuse(*, row: dict, code: str, **details: object) -> SelfCheckinRefused:
    SelfCheckin.objects.create(**row, result=code)  # kept: its own transaction (autocommit)
    return SelfCheckinRefused(SELF_CHECKIN_MESSAGES[code], code=code, **details)


def self_checkin_record(
    *,
    shift_id: int,
    user: User,
    payload: str,
    latitude: float,
    longitude: float,
    coord: str = "wgs84",
    kind: str = SelfCheckin.Kind.IN,
    now: datetime | None = None,
) -> SelfCheckin:
    """Check a volunteer in (or out) themselves; see the module docstring. A repeat of a
    successful check-in (or check-out) answers the first one."""
    now = _now(now)
    shift = Shift.objects.select_related("activity__post").filter(pk=shift_id).first()
    if shift is None or shift.activity.status != Activity.Status.PUBLISHED:
        raise NotFound()
    lat, lon = to_wgs84(latitude, longitude, coord)
    signup = Signup.objects.filter(shift=shift, user=user, status__in=Signup.CONFIRMED_STATUSES).first()
    row: dict[str, object] = {
        "shift": shift,
        "user": user,
        "signup": signup,
        "kind": kind,
        "at": now,
        "latitude": Decimal(f"{lat:.6f}"),
        "longitude": Decimal(f"{lon:.6f}"),
    }
    code = (
        ("not_signed_up" if signup is None else None)
        or _mode_problem(activity=shift.activity, kind=kind)
        or qr_problem(payload=payload, shift_id=shift.pk, now=now)
        or _window_problem(shift=shift, kind=kind, now=now)
    )
    if code:
        raise _refuse(row=row, code=code)
    post = shift.activity.post
    assert post is not None and post.latitude is not None and post.longitude is not None
    distance = round(distance_m(lat, lon, float(post.latitude), float(post.longitude)))
    row["distance_m"] = distance
    if distance > post.geofence_radius_m:
        raise _refuse(row=row, code="outside_geofence", distance_m=distance, radius_m=post.geofence_radius_m)
    assert signup is not None
    return _accept(row=row, signup=signup, shift=shift, kind=kind, now=now)


def _accept(*, row: dict, signup: Signup, shift: Shift, kind: str, now: datetime) -> SelfCheckin:
    ok = SelfCheckin.objects.filter(signup=signup, result="ok")
    if kind == SelfCheckin.Kind.OUT and not ok.filter(kind=SelfCheckin.Kind.IN).exists():
        raise _refuse(row=row, code="not_checked_in")
    with transaction.atomic():
        Signup.objects.select_for_update().filter(pk=signup.pk).first()  # one attempt per person at a time
        again = ok.filter(kind=kind).first()
        if again is not None:
            return again
        checked_in = ok.filter(kind=SelfCheckin.Kind.IN).first()
        entry = SelfCheckin.objects.create(**row, result="ok")
        if kind == SelfCheckin.Kind.OUT:
            assert checked_in is not None
            entry.record = attendance_record(
                signup=signup,
                checked_in_at=checked_in.at,
                checked_out_at=now,
                external_ref=f"self:{signup.pk}",
                source=ServiceRecord.Source.CHECKIN,
                now=now,
            )
            entry.save(update_fields=["record"])
    return entry


def self_checkins_close(*, now: datetime | None = None) -> int:
    """Credit ``self_checkin`` activities: each successful check-in of an ended shift becomes
    attendance up to the shift's end (idempotent by ``self:<sign-up>``)."""
    now = _now(now)
    due = SelfCheckin.objects.filter(
        result="ok",
        kind=SelfCheckin.Kind.IN,
        record__isnull=True,
        shift__ends_at__lte=now,
        shift__activity__hours_mode=Mode.SELF_CHECKIN,
        signup__status__in=Signup.CONFIRMED_STATUSES,
    ).select_related("signup", "shift")
    done = 0
    for entry in due[:500]:
        assert entry.signup is not None
        with transaction.atomic():
            entry.record = attendance_record(
                signup=entry.signup,
                checked_in_at=entry.at,
                checked_out_at=entry.shift.ends_at,
                external_ref=f"self:{entry.signup_id}",
                source=ServiceRecord.Source.CHECKIN,
                now=now,
            )
            entry.save(update_fields=["record"])
        done += 1
    return done
