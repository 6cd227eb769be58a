"""Helpers of the end-to-end notification tests. Every notification hook of the other domains, end to end: cause → outbox → stand-in FCM.

One test per kind a domain sends. The cause goes through the real HTTP API (Django's test client
with a bearer token) or, for periodic work, through ``manage.py run_job NAME`` on a frozen
clock. Each recipient first registers a phone through ``POST /api/v1/me/devices``; afterwards
the test checks the outbox row (right user, kind, category, Chinese title and body with every
placeholder filled, data payload), the one message the stand-in FCM server accepted for that
phone (title, body and data as strings, sent to that address once), the delivery attempt, and
the user's inbox through the API.

Delivery after commit: most tests are ``db`` tests whose cause runs inside
``django_capture_on_commit_callbacks(execute=True)``, so the very callbacks the cause registered
(and nothing registered during set-up) run as a commit would run them; the immediate task
backend then sends at once. The decision hooks the issue names, and every rollback test, run
with ``django_db(transaction=True)``: real commits and real rollbacks.

The clock is frozen at 10:00 Asia/Shanghai (outside quiet hours) so reminders and information
notices are pushed at once rather than held until 07:00.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import models

from backend.notifications.delivery import token_hash
from backend.notifications.kinds import get_kind
from backend.notifications.models import DeliveryAttempt, Notification
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=True)


# --- phones and what reached them ----------------------------------------------------------------

_phone_seq = iter(range(1, 10**6))


@dataclass
class Phone:
    """A user's phone, registered through the API; ``mark()`` starts a new count of messages."""

    user: Any
    token: str
    fcm: Any
    seen: int = 0

    def api(self) -> ApiClient:
        """The user's API client (a fresh sign-in after the clock moved)."""
        return ApiClient(self.user)

    def mark(self) -> Phone:
        self.seen = len(self.fcm.requests_to(self.token))
        return self

    def new_requests(self) -> list[dict[str, Any]]:
        return self.fcm.requests_to(self.token)[self.seen :]

    def new_kinds(self) -> list[str]:
        return sorted(r["message"]["data"]["kind"] for r in self.new_requests())


def phone(fcm, user) -> Phone:
    token = f"hook-phone-{next(_phone_seq)}-{user.pk}-fcmRegistrationTokenXYZ"
    r = ApiClient(user).post("/me/devices", {"token": token, "platform": "android"})
    assert r.status_code == 200, r.json()
    return Phone(user=user, token=token, fcm=fcm).mark()


def expect_push(ph: Phone, kind: str, target: models.Model | None, *, urgent: bool = False) -> Notification:
    """The cause left exactly one ``kind`` notification about ``target`` for the phone's user, and
    the stand-in FCM accepted exactly one well-formed message for it, sent to that phone."""
    spec = get_kind(kind)
    object_id = str(target.pk) if target is not None else ""
    rows = [
        n
        for n in Notification.objects.filter(user=ph.user, kind=kind).order_by("pk")
        if n.data.get("object_id") == object_id
    ]
    assert len(rows) == 1, f"{kind}: {len(rows)} notifications about {target!r} for {ph.user}"
    note = rows[0]
    data = {
        "kind": kind,
        "object_type": target._meta.label_lower if target is not None else "",
        "object_id": object_id,
        "link": spec.link.format(object_id=object_id) if spec.link else "",
    }
    # The outbox row: Chinese, every placeholder filled, the deep link of the object.
    assert note.category == spec.category
    assert CJK.search(note.title) and CJK.search(note.body), (note.title, note.body)
    assert note.title.startswith(spec.title.split("{")[0])
    assert "{" not in note.title + note.body, (note.title, note.body)
    assert note.data == data, note.data
    assert note.urgent is urgent
    assert (note.push_state, note.push_attempts, note.push_note) == ("done", 1, ""), note.push_note
    # What FCM received: one message for this notification, to this phone, accepted.
    sent = [r for r in ph.fcm.requests if r["message"]["data"].get("notification_id") == str(note.pk)]
    assert len(sent) == 1, sent
    [request] = sent
    assert (request["status"], request["target"], request["address"]) == (200, "token", ph.token)
    message = request["message"]
    assert message["notification"] == {"title": note.title, "body": note.body}
    assert message["data"] == {**data, "notification_id": str(note.pk)}
    high = urgent or spec.category in ("decision", "assignment")
    assert message["android"]["priority"] == ("high" if high else "normal")
    attempts = list(DeliveryAttempt.objects.filter(notification=note).values_list("outcome", "token_hash"))
    assert attempts == [("sent", token_hash(ph.token))]
    # And the in-app inbox has it.
    inbox = ph.api().get("/me/notifications", {"limit": 100}).json()
    [item] = [i for i in inbox["items"] if i["id"] == note.pk]
    assert (item["kind"], item["title"], item["link"], item["read"]) == (
        kind,
        note.title,
        data["link"],
        False,
    )
    return note


def expect_nothing(kind: str, *phones: Phone) -> None:
    """No ``kind`` notification was written, and FCM got nothing new for these phones."""
    assert not Notification.objects.filter(kind=kind).exists()
    for ph in phones:
        assert ph.new_requests() == [], ph.new_requests()


def run_job(name: str) -> str:
    out = io.StringIO()
    call_command("run_job", name, stdout=out)
    return out.getvalue()


class Boom(Exception):
    """A failure injected after the hook has written its notification."""


def raw_client(client: ApiClient) -> ApiClient:
    """Return 500 responses for unexpected errors instead of raising them in the test."""
    client.client.raise_request_exception = False
    return client


def vf():
    from tests.volunteers import factories

    return factories
