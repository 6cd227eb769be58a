"""Builders for check-in tests: an event of a volunteer organisation, its staff and passes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from backend.accounts.models import Grant, Role, ScopeType
from backend.checkin import services
from backend.checkin.models import Event, Pass
from tests.factories import UserFactory
from tests.volunteers import factories as vf


def event(
    *, org: Any = None, opens_in: timedelta = timedelta(hours=-1), hours: float = 4, **kwargs: Any
) -> Event:
    org = org or vf.organisation()
    now = timezone.now().replace(microsecond=0)
    starts_at = kwargs.pop("starts_at", now)
    return services.event_create(
        organisation=org,
        title=kwargs.pop("title", "社区义诊"),
        starts_at=starts_at,
        ends_at=kwargs.pop("ends_at", starts_at + timedelta(hours=hours)),
        checkin_opens_at=kwargs.pop("checkin_opens_at", now + opens_in),
        checkin_closes_at=kwargs.pop("checkin_closes_at", None),
        **kwargs,
    )


def staff(ev: Event, role: str = Role.SCANNER, **kwargs: Any):
    user = UserFactory(**kwargs)
    Grant.objects.create(user=user, role=role, scope_type=ScopeType.EVENT, scope_id=str(ev.pk))
    return user


def attendee(ev: Event, name: str = "王小明", holder: Any = None) -> Pass:
    return services.pass_add_attendee(event=ev, holder_name=name, holder=holder)


def nonce() -> str:
    return secrets.token_hex(8)


def redeem_msg(secret: str, *, kind: str = "entry", scanned_at: datetime | None = None, **extra: Any) -> dict:
    return {
        "type": "redeem",
        "secret": secret,
        "nonce": extra.pop("nonce", None) or nonce(),
        "kind": kind,
        "scanned_at": (scanned_at or timezone.now()).isoformat(),
        **extra,
    }


def redeem(ev: Event, secret: str, **kwargs: Any):
    msg = redeem_msg(secret, **kwargs)
    return services.checkin_redeem(event_id=ev.pk, redeem=services.redeem_parse(msg))


def upload(client: Any, ev: Event, secret: str, *, device_id: int | None = None, **kwargs: Any) -> dict:
    """One scan through the HTTP upload (``POST /events/{id}/checkins``); its result item."""
    body: dict[str, Any] = {"items": [redeem_msg(secret, **kwargs)]}
    if device_id is not None:
        body["device_id"] = device_id
    response = client.post(f"/events/{ev.pk}/checkins", body)
    assert response.status_code == 200, response.json()
    return response.json()["results"][0]


def device(client: Any, ev: Event, *, name: str = "1号机", gate: str = "北门") -> int:
    """Register a scanner device through the API; its id."""
    response = client.post(f"/events/{ev.pk}/devices", {"name": name, "gate": gate})
    assert response.status_code == 201, response.json()
    return response.json()["id"]
