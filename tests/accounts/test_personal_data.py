"""PIPL rights: a copy of one's data, consent withdrawal, account cancellation with a
cooling-off period (tokens, devices and WeChat at once; data deleted or pseudonymised after)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.accounts.models import AccountCancellation, AuthSession, User
from backend.accounts.services import cancellations_complete
from backend.checkin.models import Pass
from backend.core.crypto import unseal
from backend.core.models import AuditLog
from backend.divisions.models import Division
from backend.filings.models import Filing
from backend.notifications.models import Device
from backend.volunteers.models import (
    ID_PURPOSE,
    Certificate,
    ServiceRecord,
    Signup,
    VolunteerConsent,
    VolunteerProfile,
)
from backend.wechat.models import Subscription, WeChatAccount
from tests.checkin import factories as chf
from tests.filings.conftest import COMMUNITY
from tests.filings.factories import submitted
from tests.helpers import ApiClient, assert_error
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


@pytest.fixture
def volunteer():
    vf.divisions()
    Division.objects.get_or_create(
        code=COMMUNITY, defaults={"name": "民治社区", "level": 5, "parent_id": "440309002"}
    )
    user = vf.volunteer(phone="13912347777")
    for kind in ("terms", "privacy"):
        VolunteerConsent.objects.create(
            profile=user.volunteer_profile, kind=kind, version="2026-01", accepted_at=timezone.now()
        )
    return user


@pytest.fixture
def life(volunteer, api):
    """Someone who used Linli: a device, WeChat, a sign-up ahead, hours, a certificate, a filing,
    an event pass."""
    org = vf.organisation()
    me = api.as_user(volunteer)
    assert me.post("/me/devices", {"token": "fcm-token-1", "platform": "android"}).status_code == 200
    WeChatAccount.objects.create(user=volunteer, appid="wx1", openid="openid-1")
    Subscription.objects.create(user=volunteer, template_id="tpl", answer="accept", credits=1)
    shift = vf.shift(vf.activity(org))
    assert me.post(f"/shifts/{shift.pk}/signups").status_code == 201
    vf.record(volunteer, org, vf.at(DAY, 9), vf.at(DAY, 12), "life-1", content="引导服务")
    assert me.get("/me/certificate").status_code == 200
    filing = submitted(volunteer)
    chf.attendee(chf.event(org=org), name="陈志愿", holder=volunteer)
    return {"org": org, "shift": shift, "filing": filing}


def test_the_data_copy_holds_every_domains_part_and_is_audited(api, volunteer, life):
    body = api.as_user(volunteer).get("/me/data").json()

    sections = {s["key"]: s for s in body["sections"]}
    assert {
        "account",
        "sessions",
        "notifications",
        "wechat",
        "volunteer",
        "filings",
        "checkin",
        "rivers",
    } <= set(sections)
    assert sections["account"]["data"]["phone"] == "13912347777"
    profile = sections["volunteer"]["data"]["profile"]
    assert profile["id_number"] == unseal(volunteer.volunteer_profile.id_number_sealed, purpose=ID_PURPOSE)
    assert profile["real_name"] == "张小三" and profile["consents"]
    assert sections["volunteer"]["data"]["service_records"][0]["content"] == "引导服务"
    assert sections["wechat"]["data"]["binding"]["openid"] == "openid-1"
    assert sections["notifications"]["data"]["devices"][0]["platform"] == "android"
    assert sections["filings"]["data"]["filings"][0]["id"] == life["filing"].pk
    assert sections["checkin"]["data"]["passes"][0]["holder_name"] == "陈志愿"
    assert all(s["purpose"] and s["kept_after_cancellation"] for s in body["sections"])
    assert AuditLog.objects.filter(action="personal_data.copied", actor=volunteer).exists()
    assert AuditLog.objects.filter(action="volunteer.id_number_read", actor=volunteer).exists()

    english = ApiClient(volunteer, lang="en").get("/me/data").json()
    assert {s["key"]: s["title"] for s in english["sections"]}["volunteer"] == "Volunteering"


def test_the_data_copy_reads_as_a_page(api, volunteer, life):
    page = api.as_user(volunteer).get("/me/data", {"format": "html"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "我的个人信息副本" in text and "志愿者信息" in text and "注销后保留" in text and "引导服务" in text


def test_withdrawing_consent_lapses_the_registration_until_given_again(api, volunteer, life):
    me = api.as_user(volunteer)
    signup = Signup.objects.get(user=volunteer)

    r = me.delete("/me/consents/privacy")

    assert r.status_code == 200 and r.json()[0]["kind"] == "privacy" and r.json()[0]["withdrawn_at"]
    assert Signup.objects.get(pk=signup.pk).status == "cancelled"  # the place went back
    other = vf.shift(vf.activity(life["org"]), starts_in=timedelta(days=5))
    body = assert_error(me.post(f"/shifts/{other.pk}/signups"), 409, "requirements_not_met")
    assert {"requirement": "consent"} in body["details"]["reasons"]
    assert ServiceRecord.objects.filter(user=volunteer).count() == 1  # what was done stays
    assert_error(me.delete("/me/consents/privacy"), 404, "not_found")
    listed = {c["kind"]: c["withdrawn_at"] for c in me.get("/me/consents").json()}
    assert listed["privacy"] is not None and listed["terms"] is None

    again = me.put(
        "/volunteer/profile",
        {
            "real_name": "张小三",
            "id_number": unseal(volunteer.volunteer_profile.id_number_sealed, purpose=ID_PURPOSE),
            "mobile": "13912347777",
            "division_code": vf.STREET,
            "consents": [{"kind": "terms", "version": "2026-01"}, {"kind": "privacy", "version": "2026-01"}],
        },
    )
    assert again.status_code == 200, again.json()
    assert me.post(f"/shifts/{other.pk}/signups").status_code == 201


def test_cancelling_signs_out_everywhere_and_drops_devices_wechat_and_places_at_once(api, volunteer, life):
    me = api.as_user(volunteer)

    r = me.post("/me/cancel")

    assert r.status_code == 200
    effective = r.json()["effective_at"]
    assert effective.startswith(str(timezone.localdate() + timedelta(days=15)))
    assert_error(me.get("/me"), 401, "invalid_token")
    assert not AuthSession.objects.filter(user=volunteer, revoked_at__isnull=True).exists()
    assert not Device.objects.filter(user=volunteer).exists()
    assert not WeChatAccount.objects.filter(user=volunteer).exists()
    assert not Subscription.objects.filter(user=volunteer).exists()
    assert Signup.objects.get(user=volunteer).status == "cancelled"
    assert VolunteerProfile.objects.filter(user=volunteer).exists()  # the data waits for the period


def test_signing_in_during_the_cooling_off_asks_and_keeping_withdraws(api, volunteer):
    api.as_user(volunteer).post("/me/cancel")

    body = assert_error(
        api.post("/auth/dev-login", {"phone": "13912347777"}), 409, "account_cancellation_pending"
    )

    assert body["details"]["effective_at"] and body["details"]["keep_token"]
    assert_error(api.post("/auth/keep-account", {"keep_token": "forged"}), 401, "keep_token_invalid")
    kept = api.post("/auth/keep-account", {"keep_token": body["details"]["keep_token"]})
    assert kept.status_code == 200 and kept.json()["user"]["id"] == volunteer.pk
    assert AccountCancellation.objects.get(user=volunteer).withdrawn_at is not None
    assert api.post("/auth/dev-login", {"phone": "13912347777"}).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=16)):
        assert cancellations_complete() == 0
    assert User.objects.get(pk=volunteer.pk).phone == "13912347777"


def test_after_the_cooling_off_data_goes_records_stay_under_a_pseudonym(api, volunteer, life):
    number = unseal(volunteer.volunteer_profile.id_number_sealed, purpose=ID_PURPOSE)
    api.as_user(volunteer).post("/me/cancel")
    with time_machine.travel(timezone.now() + timedelta(days=14)):
        assert cancellations_complete() == 0
    with time_machine.travel(timezone.now() + timedelta(days=15, minutes=1)):
        assert cancellations_complete() == 1

    gone = User.objects.get(pk=volunteer.pk)
    pseudonym = AccountCancellation.objects.get(user=volunteer).pseudonym
    assert pseudonym.startswith("注销用户-") and gone.display_name == pseudonym
    assert gone.phone != "13912347777" and not gone.is_active and gone.firebase_uid is None
    assert not VolunteerProfile.objects.filter(user=gone).exists()
    assert not AuthSession.objects.filter(user=gone).exists()
    record = ServiceRecord.objects.get(user=gone)  # organisations keep the service record
    assert record.content == "引导服务" and record.hours > 0
    assert Certificate.objects.get(user=gone).holder_name_masked == pseudonym
    assert Filing.objects.get(pk=life["filing"].pk).rep_name == pseudonym  # the roster stays
    assert Filing.objects.get(pk=life["filing"].pk).persons.exists()
    assert Pass.objects.get(holder=gone).holder_name == pseudonym
    assert AuditLog.objects.filter(actor=gone).exists()  # the audit log stays, naming the pseudonym's account
    assert AuditLog.objects.filter(action="account.cancelled").exists()
    dump = str(list(User.objects.filter(pk=gone.pk).values()))
    assert "13912347777" not in dump and "张小三" not in dump

    # The phone number, and the ID number, register again as a new person.
    fresh = api.post("/auth/dev-login", {"phone": "13912347777"})
    assert fresh.status_code == 200 and fresh.json()["user"]["id"] != gone.pk
    newcomer = User.objects.get(phone="13912347777")
    again = ApiClient(newcomer).put(
        "/volunteer/profile",
        {
            "real_name": "张小三",
            "id_number": number,
            "mobile": "13912347777",
            "division_code": vf.STREET,
            "consents": [{"kind": "terms", "version": "2026-01"}, {"kind": "privacy", "version": "2026-01"}],
        },
    )
    assert again.status_code == 200, again.json()


def test_cancelling_twice_is_refused_only_while_signed_in_elsewhere(api, volunteer):
    first, second = api.as_user(volunteer), api.as_user(volunteer)
    assert first.post("/me/cancel").status_code == 200
    assert_error(second.post("/me/cancel"), 401, "invalid_token")  # every session ended
