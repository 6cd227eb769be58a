"""Factories and builders for the volunteers tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from backend.accounts.models import Grant, Role, ScopeType
from backend.core.crypto import blind_index, seal
from backend.core.validators import resident_id_check_char
from backend.divisions.models import Division
from backend.volunteers.models import Activity, Organisation, ServiceRecord, Shift, VolunteerProfile
from backend.volunteers.services import ID_INDEX_PURPOSE, ID_PURPOSE, service_record_create
from tests.factories import UserFactory

STREET = "440309002"

_seq = iter(range(1, 10**6))


def id_number(birth: date, *, male: bool = True, seq: int | None = None) -> str:
    """A valid resident ID number born on ``birth`` (division 440309)."""
    n = next(_seq) if seq is None else seq
    order = (n % 499) * 2 + (1 if male else 2)
    first17 = f"440309{birth:%Y%m%d}{order:03d}"
    return first17 + resident_id_check_char(first17)


def divisions() -> Division:
    province, _ = Division.objects.get_or_create(code="44", defaults={"name": "广东省", "level": 1})
    city, _ = Division.objects.get_or_create(
        code="4403", defaults={"name": "深圳市", "level": 2, "parent": province}
    )
    district, _ = Division.objects.get_or_create(
        code="440309", defaults={"name": "龙华区", "level": 3, "parent": city}
    )
    street, _ = Division.objects.get_or_create(
        code=STREET, defaults={"name": "民治街道", "level": 4, "parent": district}
    )
    return street


def organisation(name: str = "民治志愿者协会") -> Organisation:
    return Organisation.objects.create(name=name, division=divisions(), contact_name="李经办")


def coordinator_of(org: Organisation, **kwargs):
    user = UserFactory(**kwargs)
    Grant.objects.create(
        user=user, role=Role.COORDINATOR, scope_type=ScopeType.ORGANISATION, scope_id=str(org.pk)
    )
    return user


def volunteer(
    *, birth: date = date(1990, 5, 1), skills: list[str] | None = None, name: str = "张小三", **kwargs
):
    user = UserFactory(**kwargs)
    number = id_number(birth)
    VolunteerProfile.objects.create(
        user=user,
        volunteer_no=f"4403{user.pk:09d}",
        real_name=name,
        id_number_sealed=seal(number, purpose=ID_PURPOSE),
        id_number_index=blind_index(number, purpose=ID_INDEX_PURPOSE),
        birth_date=birth,
        gender="male",
        mobile="13800138000",
        division=divisions(),
        skills=skills or [],
    )
    return user


def activity(
    org: Organisation | None = None, *, status: str = Activity.Status.PUBLISHED, **kwargs
) -> Activity:
    org = org or organisation()
    defaults = {
        "programme": "red_vest",
        "title": "U站值守",
        "division": divisions(),
        "place": "民治党群服务中心U站",
        "recipients": "社区居民",
        "status": status,
    }
    defaults.update(kwargs)
    return Activity.objects.create(organisation=org, **defaults)


def shift(
    act: Activity | None = None, *, starts_in: timedelta = timedelta(days=3), hours: float = 3, **kwargs
) -> Shift:
    act = act or activity()
    starts_at = kwargs.pop("starts_at", None) or timezone.now().replace(microsecond=0) + starts_in
    defaults = {
        "capacity": 2,
        "waitlist_size": 2,
        "ends_at": starts_at + timedelta(hours=hours),
        "signup_closes_at": starts_at,
        "cancel_deadline": starts_at - timedelta(hours=24),
    }
    defaults.update(kwargs)
    return Shift.objects.create(activity=act, starts_at=starts_at, **defaults)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_current_timezone())


def record(
    user, org: Organisation, start: datetime, end: datetime, ref: str, source: str = "checkin", **kwargs
) -> ServiceRecord:
    """A service record through the contract other domains use (``service_record_create``)."""
    return service_record_create(
        user=user,
        organisation=org,
        source=source,
        started_at=start,
        ended_at=end,
        place=kwargs.pop("place", "U站"),
        content=kwargs.pop("content", "值守"),
        external_ref=ref,
        **kwargs,
    )
