"""Demo event: the demo coordinator runs it, the demo scanner scans, the demo volunteer and
resident hold passes (``GET /api/v1/me/passes``). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.accounts.demo import DEMO_STREET, demo_user
from backend.accounts.models import Role, ScopeType
from backend.accounts.services import grant_role
from backend.checkin.models import Event, Pass
from backend.checkin.services import event_create, pass_add_attendee
from backend.volunteers.models import Organisation
from backend.volunteers.services import organisation_create

DEMO_EVENT_TITLE = "邻里节社区义诊（演示）"
DEMO_ORG_NAME = "民治街道志愿服务队（演示）"


def seed(stdout) -> None:

    coordinator = demo_user("coordinator")
    organisation = Organisation.objects.filter(division_id=DEMO_STREET).order_by("id").first()
    if organisation is None:
        organisation = organisation_create(by=coordinator, name=DEMO_ORG_NAME, division_code=DEMO_STREET)
    grant_role(
        user=coordinator,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(organisation.pk),
    )
    event = Event.objects.filter(organisation=organisation, title=DEMO_EVENT_TITLE).first()
    if event is None:
        start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
        event = event_create(
            organisation=organisation,
            title=DEMO_EVENT_TITLE,
            venue="民治街道党群服务中心",
            division_code=DEMO_STREET,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            checkin_opens_at=timezone.now() - timedelta(hours=1),
            by=coordinator,
        )
    grant_role(
        user=demo_user("scanner"), role=Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=str(event.pk)
    )
    for role in ("volunteer", "resident"):
        holder = demo_user(role)
        if not Pass.objects.filter(event=event, holder=holder, status=Pass.Status.VALID).exists():
            pass_add_attendee(
                event=event, holder_name=holder.display_name or role, holder=holder, by=coordinator
            )
    stdout.write(f"checkin: event {event.pk} ({event.title}), live page /events/{event.pk}/live")
