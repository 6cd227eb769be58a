"""The Django admin for every staff role: sign-in without passwords, a CSP, each role in its scope,
actions through the services."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from backend.accounts.models import AuthSession, Grant, StaffSignInCode
from backend.accounts.services import grant_role
from backend.core.models import AuditLog
from backend.credentials.models import Credential
from backend.volunteers.models import Activity, ServiceRecord
from tests.checkin import factories as chf
from tests.credentials import factories as cf
from tests.factories import UserFactory
from tests.helpers import ApiClient, admin_client_for, assert_error
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db


def staff(role: str, scope_type: str = "", scope_id: str = "", **kwargs):
    user = UserFactory(**kwargs)
    grant_role(user=user, role=role, scope_type=scope_type, scope_id=str(scope_id))
    user.refresh_from_db()
    return user


def sign_in(client: Client, phone: str, code: str):
    return client.post("/admin/login/", {"phone": phone, "code": code, "next": "/admin/"})


# --- signing in ----------------------------------------------------------------------------------------


def test_staff_sign_in_with_a_one_time_code_from_the_app(api):
    reviewer = staff("reviewer", "division", "440309002", phone="13912345001")
    issued = api.as_user(reviewer).post("/me/staff-sign-in-code")
    assert issued.status_code == 200
    body = issued.json()
    assert (
        len(body["code"]) == 6 and body["expires_in"] == 300 and body["admin_url"].endswith("/admin/login/")
    )
    browser = Client()

    response = sign_in(browser, "13912345001", body["code"])

    assert response.status_code == 302 and response["Location"] == "/admin/"
    index = browser.get("/admin/")
    assert index.status_code == 200 and "/admin/filings/filing/" in index.content.decode()
    assert "/admin/password_change/" not in index.content.decode()  # no passwords to change
    assert "Content-Security-Policy" in index and "script-src 'self'" in index["Content-Security-Policy"]
    assert AuthSession.objects.filter(user=reviewer, method="admin", revoked_at__isnull=True).count() == 1
    # The code worked once.
    assert sign_in(Client(), "13912345001", body["code"]).status_code == 200


def test_a_wrong_code_is_refused_and_five_wrong_tries_kill_the_code(api):
    reviewer = staff("reviewer", "division", "440309002", phone="13912345002")
    code = api.as_user(reviewer).post("/me/staff-sign-in-code").json()["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        page = sign_in(Client(), "13912345002", wrong)
        assert page.status_code == 200 and "验证码不正确" in page.content.decode()
    assert sign_in(Client(), "13912345002", code).status_code == 200  # dead now
    assert StaffSignInCode.objects.get(user=reviewer).attempts == 5
    assert AuditLog.objects.filter(action="auth.staff_code_refused").count() == 5


def test_the_login_page_carries_the_csp_and_no_password_field():
    page = Client().get("/admin/login/")
    assert page.status_code == 200 and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert 'type="password"' not in page.content.decode()


def test_people_without_a_staff_role_get_no_code(api):
    assert_error(api.as_user(UserFactory()).post("/me/staff-sign-in-code"), 403, "not_staff")
    scanner = staff("scanner", "event", "1")
    assert_error(api.as_user(scanner).post("/me/staff-sign-in-code"), 403, "not_staff")


def test_passwords_open_nothing():
    user = staff("platform_admin")
    user.set_password("correct horse battery staple")
    user.save()
    page = Client().post(
        "/admin/login/", {"username": user.phone, "password": "correct horse battery staple"}
    )
    assert page.status_code == 200
    from django.contrib.auth import authenticate

    assert authenticate(username=user.phone, password="correct horse battery staple") is None


def test_logging_out_of_the_admin_ends_its_session():
    reviewer = staff("reviewer", "division", "440309002")
    browser = admin_client_for(reviewer)
    assert browser.get("/admin/").status_code == 200
    browser.post("/admin/logout/")
    assert not AuthSession.objects.filter(user=reviewer, revoked_at__isnull=True).exists()
    assert browser.get("/admin/").status_code == 302


def test_a_revoked_role_or_ended_session_shuts_the_admin_at_the_next_request(api):
    coordinator = staff("coordinator", "organisation", str(vf.organisation().pk))
    browser = admin_client_for(coordinator)
    assert browser.get("/admin/volunteers/activity/").status_code == 200
    admin = staff("platform_admin")
    grant = Grant.objects.get(user=coordinator)
    assert api.as_user(admin).delete(f"/grants/{grant.pk}").status_code == 200
    assert browser.get("/admin/volunteers/activity/").status_code == 302
    other = admin_client_for(admin)
    AuthSession.objects.filter(user=admin).update(revoked_at="2026-01-01T00:00:00+08:00")
    assert other.get("/admin/").status_code == 302


# --- every staff role in its scope ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "/admin/filings/workcalendarday/",
        "/admin/filings/filingpolicy/",
        "/admin/credentials/credential/",
        "/admin/rivers/riverissue/",
        "/admin/checkin/event/",
        "/admin/accounts/user/",
        "/admin/accounts/grant/",
        "/admin/core/signingkey/",
        "/admin/core/auditlog/",
        "/admin/volunteers/activity/",
        "/admin/filings/workcalendarday/add/",
    ],
)
def test_the_platform_admin_works_on_every_page(page):
    assert admin_client_for(staff("platform_admin")).get(page).status_code == 200


def test_association_admin_sees_their_credentials_and_revokes_through_the_service():
    mine = cf.valid_credential()
    theirs = cf.valid_credential()
    person = staff("association_admin", "association", str(mine.association_id))
    browser = admin_client_for(person)
    listing = browser.get("/admin/credentials/credential/").content.decode()
    assert mine.certificate_no in listing and theirs.certificate_no not in listing
    assert browser.get(f"/admin/credentials/credential/{theirs.pk}/change/").status_code in (302, 403)
    assert browser.get("/admin/filings/filing/").status_code == 403

    form = browser.post(
        "/admin/credentials/credential/", {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert form.status_code == 200 and "理由" in form.content.decode()
    browser.post(
        "/admin/credentials/credential/",
        {"action": "revoke", "_selected_action": [mine.pk, theirs.pk], "apply": "1", "reason": "证件造假"},
    )
    assert Credential.objects.get(pk=mine.pk).status == "revoked"
    assert Credential.objects.get(pk=theirs.pk).status == "valid"  # outside their scope: not even selected
    assert AuditLog.objects.filter(actor=person, object_id=str(mine.pk)).exists()

    badge = browser.get(f"/admin/credentials/credential/{mine.pk}/badge.png")
    assert badge.status_code == 200 and badge.content.startswith(b"\x89PNG")
    assert browser.get(f"/admin/credentials/credential/{theirs.pk}/badge.png").status_code == 404


def test_coordinator_publishes_their_activities_and_approves_hours():
    org, other = vf.organisation(), vf.organisation("别的组织")
    draft = vf.activity(org, status=Activity.Status.DRAFT, title="自家活动")
    vf.shift(draft)
    foreign = vf.activity(other, status=Activity.Status.DRAFT, title="别家活动")
    coordinator = staff("coordinator", "organisation", str(org.pk))
    browser = admin_client_for(coordinator)

    listing = browser.get("/admin/volunteers/activity/").content.decode()
    assert "自家活动" in listing and "别家活动" not in listing
    browser.post(
        "/admin/volunteers/activity/", {"action": "publish", "_selected_action": [draft.pk, foreign.pk]}
    )
    assert Activity.objects.get(pk=draft.pk).status == Activity.Status.PUBLISHED
    assert Activity.objects.get(pk=foreign.pk).status == Activity.Status.DRAFT

    day = date(2026, 3, 7)
    volunteer = vf.volunteer()
    record = vf.record(volunteer, org, vf.at(day, 6), vf.at(day, 15), "adm1", "checkin", content="值守")
    assert record.status == "pending"
    browser.post(
        "/admin/volunteers/servicerecord/", {"action": "approve_records", "_selected_action": [record.pk]}
    )
    assert ServiceRecord.objects.get(pk=record.pk).status == "valid"
    assert browser.get("/admin/credentials/credential/").status_code == 403


def test_coordinator_sees_only_the_events_they_run():
    org = vf.organisation()
    mine = chf.event(org=org, title="自家活动日")
    chf.event(org=vf.organisation("别的组织"), title="别家活动日")
    coordinator = staff("coordinator", "organisation", str(org.pk))
    listing = admin_client_for(coordinator).get("/admin/checkin/event/").content.decode()
    assert mine.title in listing and "别家活动日" not in listing


def test_platform_admin_grants_and_revokes_in_the_admin_through_the_services():
    admin = staff("platform_admin")
    person = UserFactory()
    browser = admin_client_for(admin)
    vf.divisions()
    refused = browser.post(
        "/admin/accounts/grant/add/",
        {"user": person.pk, "role": "reviewer", "scope_type": "division", "scope_id": "999999999"},
    )
    assert refused.status_code == 200 and not Grant.objects.filter(user=person).exists()
    added = browser.post(
        "/admin/accounts/grant/add/",
        {"user": person.pk, "role": "reviewer", "scope_type": "division", "scope_id": "440309002"},
    )
    assert added.status_code == 302, added.content.decode()[:3000]
    grant = Grant.objects.get(user=person)
    assert grant.granted_by == admin and AuditLog.objects.filter(action="grant.created", actor=admin).exists()
    browser.post("/admin/accounts/grant/", {"action": "revoke", "_selected_action": [grant.pk]})
    assert not Grant.objects.filter(user=person).exists()
    assert AuditLog.objects.filter(action="grant.revoked", actor=admin).exists()


def test_platform_admin_rotates_a_signing_key_in_the_admin():
    from backend.core import keys
    from backend.core.models import SigningKey

    first = keys.key_rotate(purpose="credential")
    browser = admin_client_for(staff("platform_admin"))
    browser.post("/admin/core/signingkey/", {"action": "rotate", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert (
        first.status == "retired"
        and SigningKey.objects.filter(status="active", purpose="credential").count() == 1
    )
    assert ApiClient().get("/verify/keys").status_code == 200


def test_reviewer_reads_the_river_segments_of_their_division_only():
    from backend.rivers import services as river_services
    from backend.rivers.models import River
    from tests.rivers import factories as rf

    mine = rf.river_with_segment(division_code=rf.STREET)
    other_river = River.objects.create(name="另一条河")
    theirs = river_services.segment_create(
        actor=None,
        river=other_river,
        name="观湖段",
        division_code=rf.OTHER_STREET,
        geometry={"type": "LineString", "coordinates": rf.river_line()},
        patrol_every_days=7,
    )
    reviewer = staff("reviewer", "division", rf.STREET)
    browser = admin_client_for(reviewer)
    listing = browser.get("/admin/rivers/riversegment/")
    assert listing.status_code == 200
    assert mine.name in listing.content.decode() and theirs.name not in listing.content.decode()
    assert browser.get(f"/admin/rivers/riversegment/{theirs.pk}/change/").status_code in (302, 403)
    assert browser.get("/admin/rivers/riverissue/").status_code == 200
