"""Every notification hook of the other domains, end to end: cause → outbox → stand-in FCM.

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
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from backend.filings import services as filing_services
from backend.filings.models import CreditListing, Filing, Group
from backend.notifications.delivery import token_hash
from backend.notifications.kinds import get_kind
from backend.notifications.models import DeliveryAttempt, Notification
from tests.factories import UserFactory
from tests.filings import conftest as filings_fixtures
from tests.filings.conftest import filing_payload, upload_all
from tests.filings.factories import approved_group, submitted
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: a working day, outside quiet hours (22:00–07:00).
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- fixtures ------------------------------------------------------------------------------------

# The filings tests' divisions and people, used as they are (through getfixturevalue below).
divisions = filings_fixtures.divisions
rep = filings_fixtures.rep
reviewer = filings_fixtures.reviewer
reviewer2 = filings_fixtures.reviewer2


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(MORNING, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_signing_keys():
    """Signing keys (passes, badges) are cached per process; each test database starts without."""
    from backend.core.keys import keys_invalidate

    keys_invalidate(everywhere=False)
    yield
    keys_invalidate(everywhere=False)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block registers for after commit, as the commit of a ``db`` test would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def group_rep(request):
    """The filings tests' representative (``rep`` of tests/filings/conftest.py)."""
    return request.getfixturevalue("rep")


@pytest.fixture
def street_reviewer(request):
    """A reviewer of the street office that reviews the filings."""
    return request.getfixturevalue("reviewer")


@pytest.fixture
def street_reviewer2(request):
    return request.getfixturevalue("reviewer2")


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


# === filings (issue 3) ===========================================================================


def accepted(group_rep, street_reviewer) -> Filing:
    filing = submitted(group_rep)
    return filing_services.filing_accept(filing=filing, actor=street_reviewer)


def test_submitted_filing_reaches_the_reviewers_phone(
    api, group_rep, street_reviewer, fcm_standin, committed
):
    rep_api, reviewing = ApiClient(group_rep), phone(fcm_standin, street_reviewer)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    upload_all(rep_api, fid)
    with committed():
        r = rep_api.post(f"/filings/{fid}/submit")
    assert r.status_code == 200, r.json()
    note = expect_push(reviewing, "filing.submitted", Filing.objects.get(pk=fid))
    assert "民治社区夕阳红合唱团" in note.body
    assert reviewing.new_kinds() == ["filing.submitted"]


def test_resubmitted_filing_reaches_the_reviewers_phone(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    filing_services.filing_request_correction(
        filing=filing, actor=street_reviewer, reasons=[{"field": "address", "reason": "请填写门牌号"}]
    )
    reviewing = phone(fcm_standin, street_reviewer)
    with committed():
        r = ApiClient(group_rep).post(f"/filings/{filing.pk}/submit")
    assert r.status_code == 200 and r.json()["status"] == "resubmitted", r.json()
    note = expect_push(reviewing, "filing.resubmitted", filing)
    assert r.json()["due_date"] in note.body
    assert reviewing.new_kinds() == ["filing.resubmitted"]


def test_accepted_filing_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = submitted(group_rep)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/accept")
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.accepted", filing)
    assert r.json()["due_date"] in note.body
    assert representative.new_kinds() == ["filing.accepted"]


def test_correction_request_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/filings/{filing.pk}/request-correction",
            {"reasons": [{"field": "address", "reason": "请填写具体门牌号"}]},
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.correction_requested", filing)
    assert "请填写具体门牌号" in note.body
    assert representative.new_kinds() == ["filing.correction_requested"]


@pytest.mark.django_db(transaction=True)
def test_approval_reaches_the_representative_after_the_real_commit(group_rep, street_reviewer, fcm_standin):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/approve")
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.approved", filing)
    assert r.json()["filing_number"] in note.body and r.json()["valid_until"] in note.body
    assert representative.new_kinds() == ["filing.approved"]


def test_rejection_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    filing = accepted(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/filings/{filing.pk}/reject", {"reasons": [{"reason": "活动内容超出社区范围"}]}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "filing.rejected", filing)
    assert "活动内容超出社区范围" in note.body
    assert representative.new_kinds() == ["filing.rejected"]


def test_due_date_warning_reaches_the_reviewer_on_the_due_day(
    group_rep, street_reviewer, fcm_standin, committed
):
    filing = accepted(group_rep, street_reviewer)
    reviewing = phone(fcm_standin, street_reviewer)
    with travel(at(filing.due_date)), committed():
        run_job("filings.due_warnings")
        run_job("filings.due_warnings")  # idempotent: one warning per due date
    note = expect_push(reviewing, "filing.due_soon", filing)
    assert filing.due_date.isoformat() in note.body
    assert reviewing.new_kinds() == ["filing.due_soon"]


def test_overdue_filing_is_pushed_urgently_to_the_reviewer(
    group_rep, street_reviewer, fcm_standin, committed
):
    filing = accepted(group_rep, street_reviewer)
    reviewing = phone(fcm_standin, street_reviewer)
    with travel(at(filing.due_date + timedelta(days=1))), committed():
        run_job("filings.due_warnings")
    expect_push(reviewing, "filing.overdue", filing, urgent=True)
    assert reviewing.new_kinds() == ["filing.overdue"]


def test_revocation_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/orgs/{group.pk}/revoke", {"reasons": [{"reason": "以备案名义从事经营性收费活动"}]}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "org.revoked", group)
    assert "经营性收费" in note.body
    assert representative.new_kinds() == ["org.revoked"]


def test_abnormal_listing_by_a_reviewer_reaches_the_representative(
    group_rep, street_reviewer, fcm_standin, committed
):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/orgs/{group.pk}/credit-listings",
            {"reason_code": "unreachable", "reason": "通过登记的住所无法联系"},
        )
    assert r.status_code == 201, r.json()
    note = expect_push(representative, "org.abnormal_listed", group)
    assert "通过登记的住所无法联系" in note.body
    assert representative.new_kinds() == ["org.abnormal_listed"]


def test_listing_removal_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    listing = filing_services.credit_listing_create(
        group=group,
        actor=street_reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    representative = phone(fcm_standin, group_rep)
    with committed():
        r = ApiClient(street_reviewer).post(
            f"/review/credit-listings/{listing.pk}/remove", {"reason": "已恢复联系"}
        )
    assert r.status_code == 200, r.json()
    note = expect_push(representative, "org.listing_removed", group)
    assert "已恢复联系" in note.body
    assert representative.new_kinds() == ["org.listing_removed"]


def test_two_years_on_the_abnormal_list_pushes_the_serious_listing(
    group_rep, street_reviewer, fcm_standin, committed
):
    group = approved_group(group_rep, street_reviewer)
    filing_services.credit_listing_create(
        group=group,
        actor=street_reviewer,
        list_kind="abnormal",
        reason_code="unreachable",
        reason="无法联系",
        basis="",
    )
    representative = phone(fcm_standin, group_rep)
    with travel(at(date(2028, 11, 17))), committed():
        run_job("filings.credit_list_sweep")
    assert CreditListing.objects.filter(group=group, list_kind="serious").count() == 1
    expect_push(representative, "org.serious_listed", group)
    expect_push(representative, "org.listing_removed", group)  # off the abnormal list, onto the serious one
    # The same run also lists the missing annual reports of 2026 and 2027.
    assert representative.new_kinds() == [
        "org.abnormal_listed",
        "org.abnormal_listed",
        "org.listing_removed",
        "org.serious_listed",
    ]


def test_renewal_reminder_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with travel(at(group.valid_until - timedelta(days=10))), committed():
        run_job("filings.credit_list_sweep")
        run_job("filings.credit_list_sweep")  # once per validity period
    note = expect_push(representative, "org.renewal_due", group)
    assert group.valid_until.isoformat() in note.body
    assert representative.new_kinds().count("org.renewal_due") == 1


def test_expiry_reaches_the_representative(group_rep, street_reviewer, fcm_standin, committed):
    group = approved_group(group_rep, street_reviewer)
    representative = phone(fcm_standin, group_rep)
    with travel(at(group.valid_until + timedelta(days=1))), committed():
        run_job("filings.credit_list_sweep")
    assert Group.objects.get(pk=group.pk).status == "expired"
    expect_push(representative, "org.expired", group)
    assert representative.new_kinds().count("org.expired") == 1


@pytest.mark.django_db(transaction=True)
def test_decision_on_a_stale_version_writes_and_sends_nothing(group_rep, street_reviewer, fcm_standin):
    filing = accepted(group_rep, street_reviewer)
    stale = filing.version
    filing_services.filing_request_correction(
        filing=filing, actor=street_reviewer, reasons=[{"field": "address", "reason": "请填写门牌号"}]
    )
    representative = phone(fcm_standin, group_rep)
    r = ApiClient(street_reviewer).post(f"/review/filings/{filing.pk}/approve?version={stale}")
    assert r.status_code == 409, r.json()
    assert Filing.objects.get(pk=filing.pk).status == "correction_requested"
    expect_nothing("filing.approved", representative)


@pytest.mark.django_db(transaction=True)
def test_submission_that_fails_after_notifying_rolls_back_its_notifications(
    group_rep, street_reviewer, street_reviewer2, fcm_standin, monkeypatch
):
    """The outbox rows live in the cause's transaction: a failure after the first reviewer's
    notification was written takes it back, and nothing reaches any phone."""
    from backend.filings.services import submission as services

    rep_api = ApiClient(group_rep)
    fid = rep_api.post("/filings", filing_payload()).json()["id"]
    upload_all(rep_api, fid)
    phones = [phone(fcm_standin, street_reviewer), phone(fcm_standin, street_reviewer2)]
    real_notify, written = services.notify, []

    def notify_then_fail(**kwargs):
        written.append(real_notify(**kwargs))
        if len(written) == 2:
            raise Boom("after the second notification")
        return written[-1]

    monkeypatch.setattr(services, "notify", notify_then_fail)
    r = raw_client(rep_api).post(f"/filings/{fid}/submit")
    assert r.status_code == 500
    assert len(written) == 2 and all(n is not None for n in written)  # rows were written…
    assert Filing.objects.get(pk=fid).status == "draft"  # …and went with the cause
    expect_nothing("filing.submitted", *phones)


# === volunteers (issue 4) ========================================================================


def vf():
    from tests.volunteers import factories

    return factories


def sign_up(user, shift) -> dict:
    r = ApiClient(user).post(f"/shifts/{shift.pk}/signups")
    assert r.status_code == 201, r.json()
    return r.json()


def waitlisted_shift():
    """A one-place shift: ``holder`` has the place, ``first`` and ``second`` wait."""
    f = vf()
    shift = f.shift(capacity=1, waitlist_size=2, starts_in=timedelta(days=3))
    holder, first, second = f.volunteer(), f.volunteer(name="李小四"), f.volunteer(name="王小五")
    held = sign_up(holder, shift)
    assert sign_up(first, shift)["status"] == "waitlisted"
    assert sign_up(second, shift)["status"] == "waitlisted"
    return shift, holder, held, first, second


@pytest.mark.django_db(transaction=True)
def test_promotion_from_the_waitlist_is_pushed_with_its_confirm_by_time(fcm_standin):
    from backend.volunteers.models import Signup

    shift, holder, held, first, second = waitlisted_shift()
    promoted_phone, waiting_phone = phone(fcm_standin, first), phone(fcm_standin, second)
    r = ApiClient(holder).delete(f"/signups/{held['id']}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.json()
    promoted = Signup.objects.get(user=first, shift=shift)
    assert promoted.status == "promoted"
    note = expect_push(promoted_phone, "signup.promoted", promoted, urgent=True)
    assert timezone.localtime(promoted.confirm_by).strftime("%m-%d %H:%M") in note.body
    assert shift.activity.title in note.title
    assert promoted_phone.new_kinds() == ["signup.promoted"]
    assert waiting_phone.new_requests() == []


@pytest.mark.django_db(transaction=True)
def test_cancellation_that_fails_after_the_promotion_notice_sends_nothing(fcm_standin, monkeypatch):
    from backend.volunteers.models import Shift, Signup
    from backend.volunteers.services import waitlist as services

    shift, holder, held, first, _ = waitlisted_shift()
    promoted_phone = phone(fcm_standin, first)
    real_changed, real_notify, written = services._changed, services.notify, []

    def notify(**kwargs):
        written.append(real_notify(**kwargs))
        return written[-1]

    def changed(signup, *, actor, action, data=None):
        if action == "signup.promoted":
            raise Boom("after notify()")
        return real_changed(signup, actor=actor, action=action, data=data)

    monkeypatch.setattr(services, "_changed", changed)
    monkeypatch.setattr(services, "notify", notify)
    r = raw_client(ApiClient(holder)).delete(f"/signups/{held['id']}")
    assert r.status_code == 500
    assert [n.kind for n in written] == ["signup.promoted"]  # the row was written, then rolled back
    assert Signup.objects.get(pk=held["id"]).status == "confirmed"
    assert Signup.objects.get(user=first, shift=shift).status == "waitlisted"
    assert Shift.objects.values_list("taken", "waitlisted").get(pk=shift.pk) == (1, 2)
    expect_nothing("signup.promoted", promoted_phone)


def test_lapsed_promotion_is_pushed_and_passes_on(settings, fcm_standin, committed):
    from backend.volunteers.models import Signup

    settings.LINLI_VOLUNTEER_PROMOTION_CONFIRM_SECONDS = 3600
    shift, holder, held, first, second = waitlisted_shift()
    ApiClient(holder).delete(f"/signups/{held['id']}")
    lapsed = Signup.objects.get(user=first, shift=shift)
    first_phone, second_phone = phone(fcm_standin, first), phone(fcm_standin, second)
    with travel(lapsed.confirm_by + timedelta(minutes=5)), committed():
        run_job("volunteers.expire_promotions")
        run_job("volunteers.expire_promotions")
    expect_push(first_phone, "signup.promotion_expired", lapsed)
    next_in_line = Signup.objects.get(user=second, shift=shift, status="promoted")
    expect_push(second_phone, "signup.promoted", next_in_line, urgent=True)
    assert (first_phone.new_kinds(), second_phone.new_kinds()) == (
        ["signup.promotion_expired"],
        ["signup.promoted"],
    )


def test_shift_reminder_is_pushed_the_day_before(fcm_standin, committed):
    from backend.volunteers.models import Signup

    f = vf()
    vol = f.volunteer()
    shift = f.shift(starts_at=MORNING + timedelta(hours=23))
    sign_up(vol, shift)
    signup = Signup.objects.get(user=vol, shift=shift)
    ph = phone(fcm_standin, vol)
    with committed():
        run_job("volunteers.shift_reminders")
        run_job("volunteers.shift_reminders")  # once per window
    note = expect_push(ph, "shift.reminder", signup)
    assert "11-18 09:00" in note.body and shift.activity.place in note.body
    assert ph.new_kinds() == ["shift.reminder"]


def test_no_show_ban_reaches_the_volunteer(settings, fcm_standin, committed):
    from backend.volunteers.models import Shift, Signup, VolunteerProfile

    settings.LINLI_VOLUNTEER_NO_SHOW_LIMIT = 1
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    shift = f.shift(f.activity(org))
    signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
    Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - timedelta(hours=1), taken=1)
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(f"/signups/{signup.pk}/no-show")
    assert r.status_code == 200, r.json()
    note = expect_push(ph, "volunteer.banned", VolunteerProfile.objects.get(user=vol))
    assert "1 次" in note.body
    assert ph.new_kinds() == ["volunteer.banned"]


def _started_shift(org):
    from backend.volunteers.models import Shift

    f = vf()
    shift = f.shift(f.activity(org))
    start = timezone.now().replace(microsecond=0) - timedelta(hours=4)
    Shift.objects.filter(pk=shift.pk).update(starts_at=start, ends_at=start + timedelta(hours=3), taken=1)
    shift.refresh_from_db()
    return shift


def test_hours_over_the_daily_limit_tell_the_volunteer_they_wait_for_review(settings, fcm_standin, committed):
    from backend.volunteers.models import ServiceRecord, Signup

    settings.LINLI_VOLUNTEER_DAILY_VALID_HOURS = 2
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    shift = _started_shift(org)
    signup = Signup.objects.create(shift=shift, user=vol, status="confirmed")
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(
            f"/signups/{signup.pk}/attendance",
            {"checked_in_at": shift.starts_at.isoformat(), "checked_out_at": shift.ends_at.isoformat()},
        )
    assert r.status_code == 201 and r.json()["status"] == "pending", r.json()
    note = expect_push(ph, "service_record.pending", ServiceRecord.objects.get(pk=r.json()["id"]))
    assert "3 小时" in note.body or "3.0 小时" in note.body
    assert ph.new_kinds() == ["service_record.pending"]


def test_decision_on_pending_hours_reaches_the_volunteer(settings, fcm_standin, committed):
    from backend.volunteers.services import service_record_create

    settings.LINLI_VOLUNTEER_DAILY_VALID_HOURS = 2
    f = vf()
    org = f.organisation()
    coordinator, vol = f.coordinator_of(org), f.volunteer()
    start = timezone.now().replace(microsecond=0) - timedelta(hours=4)
    record = service_record_create(
        user=vol,
        organisation=org,
        source="checkin",
        started_at=start,
        ended_at=start + timedelta(hours=3),
        place="U站",
        content="引导服务",
        external_ref="hooks-pending-1",
    )
    assert record.status == "pending"
    ph = phone(fcm_standin, vol)
    with committed():
        r = ApiClient(coordinator).post(f"/service-records/{record.pk}/approve", {"evaluation": "认真负责"})
    assert r.status_code == 200 and r.json()["status"] == "valid", r.json()
    note = expect_push(ph, "service_record.decided", record)
    assert "已通过" in note.body
    assert ph.new_kinds() == ["service_record.decided"]


# === event check-in (issue 6) ====================================================================


def event_with_coordinator(**kwargs):
    from tests.checkin import factories as cf

    f = vf()
    org = f.organisation()
    return cf.event(org=org, **kwargs), f.coordinator_of(org)


def test_pass_added_by_the_coordinator_reaches_its_holder(fcm_standin, committed):
    from backend.checkin.models import Pass

    event, coordinator = event_with_coordinator()
    holder = UserFactory(phone="13700001111")
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(
            f"/events/{event.pk}/passes", {"holder_name": "王小明", "holder_phone": "13700001111"}
        )
    assert r.status_code == 201, r.json()
    pass_obj = Pass.objects.get(pk=r.json()["id"])
    assert pass_obj.holder_id == holder.pk
    note = expect_push(ph, "checkin.pass_issued", pass_obj)
    assert event.title in note.title
    assert ph.new_kinds() == ["checkin.pass_issued"]


def test_reissued_pass_reaches_its_holder(fcm_standin, committed):
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/reissue")
    assert r.status_code == 200, r.json()
    expect_push(ph, "checkin.pass_reissued", pass_obj)
    assert ph.new_kinds() == ["checkin.pass_reissued"]


def test_voided_pass_reaches_its_holder(fcm_standin, committed):
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/void", {"reason": "重复"})
        again = ApiClient(coordinator).post(
            f"/events/{event.pk}/passes/{pass_obj.pk}/void", {"reason": "重复"}
        )  # idempotent: no second notice
    assert r.status_code == 200 and again.status_code == 200, r.json()
    expect_push(ph, "checkin.pass_voided", pass_obj)
    assert ph.new_kinds() == ["checkin.pass_voided"]


def test_reissuing_a_voided_pass_is_refused_and_sends_nothing(fcm_standin, committed):
    from backend.checkin import services
    from tests.checkin import factories as cf

    event, coordinator = event_with_coordinator()
    holder = UserFactory()
    pass_obj = services.pass_void(pass_obj=cf.attendee(event, holder=holder))
    ph = phone(fcm_standin, holder)
    with committed():
        r = ApiClient(coordinator).post(f"/events/{event.pk}/passes/{pass_obj.pk}/reissue")
    assert r.status_code == 409, r.json()
    expect_nothing("checkin.pass_reissued", ph)


def test_event_starting_soon_is_pushed_to_its_pass_holders(fcm_standin, committed):
    """Expected: before an event starts, the check-in jobs remind each pass holder (a reminder
    kind of the check-in domain about the pass or the event, pushed once)."""
    from backend.notifications.scheduler import discover_jobs
    from tests.checkin import factories as cf

    event, _ = event_with_coordinator(starts_at=MORNING + timedelta(hours=2), opens_in=timedelta(hours=1))
    holder = UserFactory()
    pass_obj = cf.attendee(event, holder=holder)
    ph = phone(fcm_standin, holder)
    names = sorted(n for n in discover_jobs() if n.startswith("checkin."))
    with travel(MORNING + timedelta(hours=1, minutes=10)), committed():
        for name in names:
            run_job(name)
    reminders = [
        n
        for n in Notification.objects.filter(user=holder, kind__startswith="checkin.")
        if get_kind(n.kind).category == "reminder"
    ]
    assert len(reminders) == 1, [n.kind for n in Notification.objects.filter(user=holder)]
    target = pass_obj if reminders[0].data["object_type"] == "checkin.pass" else event
    expect_push(ph, reminders[0].kind, target)


# === rivers (issue 8) ============================================================================


@dataclass
class River:
    segment: Any
    handler: Any
    chief: Any
    reporter: Any
    worker: Any

    def report(self, **extra) -> int:
        body = {
            "type": "sewage_discharge",
            "lat": 22.63012345,
            "lon": 114.03256789,
            "description": "排污口有黑色污水流入河道，气味刺鼻。",
            "segment_id": self.segment.pk,
            **extra,
        }
        r = ApiClient(self.reporter).post("/river-issues", body)
        assert r.status_code == 201, r.json()
        return r.json()["id"]

    def step(self, user, issue_id: int, action: str, body: dict | None = None) -> dict:
        r = ApiClient(user).post(f"/river-issues/{issue_id}/{action}", body)
        assert r.status_code == 200, r.json()
        return r.json()

    def assigned(self) -> int:
        issue_id = self.report()
        self.step(self.handler, issue_id, "accept")
        self.step(self.handler, issue_id, "assign", {"assignee_id": self.worker.pk})
        return issue_id

    def resolve(self, issue_id: int) -> None:
        """The assignee uploads a photo of the result and reports the fix."""
        from tests.rivers import factories as rf

        r = ApiClient(self.worker).upload(
            f"/river-issues/{issue_id}/photos", {"photo": ("fix.jpg", rf.jpeg_with_gps(), "image/jpeg")}
        )
        assert r.status_code == 201, r.json()
        self.step(self.worker, issue_id, "resolve", {"resolution": "排污口已封堵，责令整改。"})

    def resolved(self) -> int:
        issue_id = self.assigned()
        self.resolve(issue_id)
        return issue_id


@pytest.fixture
def river(db) -> River:
    from tests.rivers import factories as rf

    segment = rf.river_with_segment()
    return River(
        segment=segment,
        handler=rf.handler_of(rf.STREET, display_name="李处置"),
        chief=rf.river_chief(segment, name="王河长"),
        reporter=UserFactory(display_name="陈小明"),
        worker=rf.handler_of(rf.STREET, display_name="刘执法"),
    )


def issue(issue_id: int):
    from backend.rivers.models import RiverIssue

    return RiverIssue.objects.get(pk=issue_id)


def test_reported_river_issue_reaches_the_divisions_handlers(river, fcm_standin, committed):
    handler = phone(fcm_standin, river.handler)
    with committed():
        issue_id = river.report()
    note = expect_push(handler, "river_issue.reported", issue(issue_id))
    assert "观澜河" in note.body and "民治段" in note.body
    assert handler.new_kinds() == ["river_issue.reported"]


def test_accepted_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.report()
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "accept")
    expect_push(reporter, "river_issue.accepted", issue(issue_id))
    assert reporter.new_kinds() == ["river_issue.accepted"]


def test_rejected_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.report()
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "reject", {"reason": "位置不在本河段"})
    note = expect_push(reporter, "river_issue.rejected", issue(issue_id))
    assert "位置不在本河段" in note.body
    assert reporter.new_kinds() == ["river_issue.rejected"]


@pytest.mark.django_db(transaction=True)
def test_assigned_river_issue_is_pushed_urgently_to_the_assignee(river, fcm_standin):
    issue_id = river.report()
    river.step(river.handler, issue_id, "accept")
    worker = phone(fcm_standin, river.worker)
    river.step(river.handler, issue_id, "assign", {"assignee_id": river.worker.pk})
    note = expect_push(worker, "river_issue.assigned", issue(issue_id), urgent=True)
    assert "观澜河 民治段" in note.body
    assert worker.new_kinds() == ["river_issue.assigned"]


@pytest.mark.django_db(transaction=True)
def test_assignment_to_a_non_handler_writes_and_sends_nothing(river, fcm_standin):
    issue_id = river.report()
    river.step(river.handler, issue_id, "accept")
    outsider = phone(fcm_standin, river.reporter)
    r = ApiClient(river.handler).post(f"/river-issues/{issue_id}/assign", {"assignee_id": river.reporter.pk})
    assert_error(r, 422, "not_a_handler")
    assert issue(issue_id).status == "accepted"
    expect_nothing("river_issue.assigned", outsider)


def test_resolved_river_issue_asks_the_reporter_and_the_river_chief_to_verify(river, fcm_standin, committed):
    issue_id = river.assigned()
    reporter, chief = phone(fcm_standin, river.reporter), phone(fcm_standin, river.chief)
    with committed():
        river.resolve(issue_id)
    for ph in (reporter, chief):
        note = expect_push(ph, "river_issue.resolved", issue(issue_id))
        assert "排污口已封堵" in note.body
        assert ph.new_kinds() == ["river_issue.resolved"]


def test_verified_river_issue_reaches_the_assignee_and_the_handlers(river, fcm_standin, committed):
    issue_id = river.resolved()
    worker, handler = phone(fcm_standin, river.worker), phone(fcm_standin, river.handler)
    with committed():
        river.step(river.chief, issue_id, "verify", {"confirmed": True})
    for ph in (worker, handler):
        expect_push(ph, "river_issue.verified", issue(issue_id))
        assert ph.new_kinds() == ["river_issue.verified"]


def test_failed_verification_sends_the_issue_back_to_the_assignee(river, fcm_standin, committed):
    issue_id = river.resolved()
    worker = phone(fcm_standin, river.worker)
    with committed():
        river.step(river.reporter, issue_id, "verify", {"confirmed": False, "note": "仍有污水流出"})
    note = expect_push(worker, "river_issue.reopened", issue(issue_id), urgent=True)
    assert "仍有污水流出" in note.body
    assert worker.new_kinds() == ["river_issue.reopened"]


def test_closed_river_issue_reaches_the_reporter(river, fcm_standin, committed):
    issue_id = river.resolved()
    river.step(river.chief, issue_id, "verify", {"confirmed": True})
    reporter = phone(fcm_standin, river.reporter)
    with committed():
        river.step(river.handler, issue_id, "close")
    expect_push(reporter, "river_issue.closed", issue(issue_id))
    assert reporter.new_kinds() == ["river_issue.closed"]


def test_overdue_river_issue_reaches_its_assignee(river, fcm_standin, committed):
    issue_id = river.assigned()
    worker, handler = phone(fcm_standin, river.worker), phone(fcm_standin, river.handler)
    with travel(issue(issue_id).due_at + timedelta(hours=1)), committed():
        run_job("rivers.flag_overdue_issues")
        run_job("rivers.flag_overdue_issues")  # flagged once
    expect_push(worker, "river_issue.overdue", issue(issue_id))
    assert worker.new_kinds() == ["river_issue.overdue"]
    assert handler.new_requests() == []  # the assignee holds it, not the whole division


def _upload_body(segment, walk, client_id: str) -> dict:
    return {
        "client_id": client_id,
        "segment_id": segment.pk,
        "started_at": (walk.fixes[0].at - timedelta(seconds=20)).isoformat(),
        "finished_at": (walk.fixes[-1].at + timedelta(seconds=20)).isoformat(),
        "datum": "wgs84",
        "points": [x.json() for x in walk.fixes],
    }


def test_valid_patrol_tells_the_steward_the_hours_credited(river, fcm_standin, committed):
    from backend.rivers.models import Patrol
    from tests.rivers import factories as rf

    walk = rf.riverside_walk()
    steward = phone(fcm_standin, river.chief)
    with committed():
        r = ApiClient(river.chief).post("/patrols:upload", _upload_body(river.segment, walk, "hooks-valid"))
    assert r.status_code == 201 and r.json()["is_valid"] is True, r.json()
    note = expect_push(steward, "patrol.credited", Patrol.objects.get(pk=r.json()["id"]))
    assert "0.5" in note.body
    assert steward.new_kinds() == ["patrol.credited"]


def test_short_patrol_tells_the_steward_why_it_does_not_count(river, fcm_standin, committed):
    from backend.rivers.models import Patrol
    from tests.rivers import factories as rf

    walk = rf.riverside_walk(length_m=400, teleport=False, poor_fixes=0)
    steward = phone(fcm_standin, river.chief)
    with committed():
        r = ApiClient(river.chief).post("/patrols:upload", _upload_body(river.segment, walk, "hooks-short"))
    assert r.status_code == 201 and r.json()["is_valid"] is False, r.json()
    note = expect_push(steward, "patrol.invalid", Patrol.objects.get(pk=r.json()["id"]))
    assert "10 分钟" in note.body
    assert steward.new_kinds() == ["patrol.invalid"]


# === credentials (issue 5) =======================================================================


def test_credential_expiring_in_30_days_reaches_the_association_admins(fcm_standin, committed):
    from tests.credentials import factories as crf

    assoc = crf.association()
    admin = crf.association_admin(assoc)
    expiring = crf.credential(crf.practitioner(assoc), valid_until=MORNING.date() + timedelta(days=20))
    crf.credential(crf.practitioner(assoc, name="李四"), valid_until=MORNING.date() + timedelta(days=90))
    ph = phone(fcm_standin, admin)
    with committed():
        run_job("credentials.expiring_notices")
        run_job("credentials.expiring_notices")  # once per credential and end date
    note = expect_push(ph, "credential.expiring", expiring)
    assert expiring.certificate_no in note.title and "张*三" in note.body and "张小三" not in note.body
    assert ph.new_kinds() == ["credential.expiring"]


# === notifications (issue 7) =====================================================================


def test_demo_welcome_reaches_a_demo_account(fcm_standin, committed):
    from backend.accounts.demo import DEMO_PHONES, demo_user
    from backend.notifications import demo

    user = demo_user(next(iter(DEMO_PHONES)))
    ph = phone(fcm_standin, user)
    with committed():
        demo.seed(io.StringIO())
        demo.seed(io.StringIO())  # idempotent
    note = expect_push(ph, "system.welcome", None)
    assert user.display_name in note.body
    assert ph.new_kinds() == ["system.welcome"]
