"""Demo data of the volunteers domain (idempotent).

- 民治街道志愿服务队（演示） in the demo street; the demo coordinator coordinates it.
- U站 at 民治街道党群服务中心, a published red-vest activity staffed every Saturday and Sunday
  9:00-12:00 (a weekly series, 4 places, 2 waitlist places).
- The demo volunteer is registered (a made-up but valid ID number), signed up for the next
  weekend shift, with 3 h of recorded service last month and a pending 2 h backfill.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from backend.accounts.demo import DEMO_STREET, demo_user
from backend.accounts.models import Role, ScopeType
from backend.accounts.services import grant_role
from backend.core.validators import resident_id_check_char
from backend.divisions.models import Division
from backend.volunteers import conf, services
from backend.volunteers.models import (
    Activity,
    Organisation,
    ServicePost,
    ServiceRecord,
    Shift,
    Signup,
    VolunteerProfile,
)

DEMO_ORG_NAME = "民治街道志愿服务队（演示）"
DEMO_POST_NAME = "民治街道党群服务中心U站（演示）"
DEMO_ACTIVITY = "周末U站值守（演示）"


def _demo_id_number() -> str:
    first17 = "44030919900501001"
    return first17 + resident_id_check_char(first17)


def seed(stdout) -> None:
    if not Division.objects.filter(code=DEMO_STREET).exists():
        stdout.write("volunteers: demo street missing (run load_divisions); skipped")
        return
    admin = demo_user("platform_admin")
    coordinator = demo_user("coordinator")
    volunteer = demo_user("volunteer")
    org = Organisation.objects.filter(division_id=DEMO_STREET).order_by("id").first()
    if org is None:
        org = services.organisation_create(
            by=admin,
            name=DEMO_ORG_NAME,
            division_code=DEMO_STREET,
            contact_name="演示经办人",
            contact_phone="0755-00000000",
        )
    grant_role(
        user=coordinator,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(org.pk),
        by=admin,
    )
    post = ServicePost.objects.filter(name=DEMO_POST_NAME).first() or services.service_post_create(
        by=coordinator,
        name=DEMO_POST_NAME,
        division_code=DEMO_STREET,
        address="深圳市龙华区民治街道民治大道（演示地址）",
        latitude=Decimal("22.6221"),
        longitude=Decimal("114.0378"),
        host="民治街道党群服务中心",
        organisation=org,
    )
    activity = Activity.objects.filter(title=DEMO_ACTIVITY, organisation=org).first()
    now = timezone.now()
    if activity is None:
        activity = services.activity_create(
            by=coordinator,
            organisation=org,
            programme="red_vest",
            title=DEMO_ACTIVITY,
            description="在U站为居民提供咨询引导、便民服务。",
            division_code=DEMO_STREET,
            post_id=post.pk,
            category="community_service",
            recipients="社区居民及过往群众",
        )
        today = timezone.localdate()
        services.shift_series_create(
            activity=activity,
            by=coordinator,
            weekdays=[5, 6],
            start_time=time(9, 0),
            end_time=time(12, 0),
            starts_on=today + timedelta(days=1),
            ends_on=today + timedelta(days=180),
            capacity=4,
            waitlist_size=2,
        )
        services.activity_publish(activity=activity, by=coordinator)
    else:
        services.shift_series_extend()
    if not VolunteerProfile.objects.filter(user=volunteer).exists():
        services.volunteer_profile_save(
            user=volunteer,
            real_name="陈志愿",
            id_number=_demo_id_number(),
            mobile=volunteer.phone,
            division_code=DEMO_STREET,
            skills=["first_aid"],
            service_categories=["community_service"],
            available_times=["weekend_morning"],
            consents=[{"kind": k, "version": v} for k, v in conf.consent_versions().items()],
        )
    upcoming = (
        Shift.objects.filter(activity=activity, starts_at__gt=now, status="open")
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None and not Signup.objects.filter(user=volunteer, shift__activity=activity).exists():
        services.shift_signup_create(shift_id=upcoming.pk, user=volunteer)
    last_month = timezone.localdate() - timedelta(days=30)
    zone = timezone.get_current_timezone()
    services.service_record_create(
        user=volunteer,
        organisation=org,
        source="coordinator",
        started_at=datetime.combine(last_month, time(9, 0), tzinfo=zone),
        ended_at=datetime.combine(last_month, time(12, 0), tzinfo=zone),
        place=post.name,
        content=DEMO_ACTIVITY,
        activity=activity,
        recipients="社区居民",
        recorder=coordinator,
        external_ref="demo:volunteers:record:1",
    )
    if not ServiceRecord.objects.filter(user=volunteer, kind="backfilled").exists():
        start = datetime.combine(date.today() - timedelta(days=45), time(14, 0), tzinfo=zone)
        services.backfill_request_create(
            user=volunteer,
            organisation=org,
            started_at=start,
            ended_at=start + timedelta(hours=2),
            place="民治公园",
            content="协助社区清洁活动（补录）",
        )
    stdout.write(f"volunteers: organisation {org.pk}, activity {activity.pk}, demo volunteer registered")
