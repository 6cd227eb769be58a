"""The Django admin: reviewers act through the same services, scoped to their jurisdiction."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client

from backend.filings.models import Filing, FilingEvent, FilingPolicy
from tests.factories import UserFactory
from tests.filings.conftest import OTHER_COMMUNITY
from tests.filings.factories import submitted
from tests.helpers import admin_client_for

URL = "/admin/filings/filing/"


def staff_reviewer(scope: str):
    from tests.factories import user_with_role

    user = user_with_role("reviewer", "division", scope, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_filing", "change_filing"]))
    return user


def logged_in(user) -> Client:
    return admin_client_for(user)


def test_reviewer_sees_only_own_jurisdiction(divisions, rep):
    mine = submitted(rep, name="民治社区甲合唱团", start=1)
    theirs = submitted(rep, name="观城社区乙合唱团", community=OTHER_COMMUNITY, start=100)
    page = logged_in(staff_reviewer("440309002")).get(URL)
    assert page.status_code == 200
    assert mine.name in page.content.decode() and theirs.name not in page.content.decode()


def test_accept_and_approve_actions_call_the_services(divisions, rep):
    filing = submitted(rep)
    client = logged_in(staff_reviewer("440309002"))
    client.post(URL, {"action": "accept", "_selected_action": [filing.pk]})
    filing.refresh_from_db()
    assert filing.status == "accepted" and filing.due_date is not None
    client.post(URL, {"action": "approve", "_selected_action": [filing.pk]})
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.group.filing_number.startswith("440309002-")
    assert FilingEvent.objects.filter(filing=filing, action="approve").exists()


def test_correction_action_asks_for_a_reason_first(divisions, rep):
    filing = submitted(rep)
    client = logged_in(staff_reviewer("440309002"))
    form = client.post(URL, {"action": "request_correction", "_selected_action": [filing.pk]})
    assert form.status_code == 200 and "理由" in form.content.decode()
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    client.post(
        URL,
        {
            "action": "request_correction",
            "_selected_action": [filing.pk],
            "apply": "1",
            "field": "charter",
            "reason": "章程缺少签字页",
        },
    )
    filing.refresh_from_db()
    assert filing.status == "correction_requested"
    assert filing.reasons == [{"field": "charter", "reason": "章程缺少签字页"}]


def test_reviewer_of_another_street_cannot_act_through_the_admin(divisions, rep):
    filing = submitted(rep)
    client = logged_in(staff_reviewer("440309003"))
    client.post(URL, {"action": "accept", "_selected_action": [filing.pk]})
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


def test_policy_form_refuses_unknown_attachment_kinds(divisions):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = logged_in(admin_user)
    r = client.post(
        "/admin/filings/filingpolicy/add/",
        {"division": "440309", "required_attachments": '["selfie"]', "reviewing_level": ""},
    )
    assert r.status_code == 200 and not FilingPolicy.objects.exists()
    r = client.post(
        "/admin/filings/filingpolicy/add/",
        {
            "division": "440309",
            "required_attachments": '["charter"]',
            "reviewing_level": "district",
            "min_members": "5",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert FilingPolicy.objects.get().min_members == 5


def test_a_reviewer_grant_opens_the_admin_without_model_permissions(divisions, rep):
    from backend.accounts.models import Grant
    from backend.accounts.services import grant_revoke, grant_role

    mine = submitted(rep, name="民治社区丙合唱团", start=1)
    reviewer = UserFactory()
    assert not reviewer.is_staff
    grant_role(user=reviewer, role="reviewer", scope_type="division", scope_id="440309002")
    reviewer.refresh_from_db()
    assert reviewer.is_staff and not reviewer.user_permissions.exists()
    client = logged_in(reviewer)
    index = client.get("/admin/")
    assert index.status_code == 200 and "/admin/filings/filing/" in index.content.decode()
    page = client.get(URL)
    assert page.status_code == 200 and mine.name in page.content.decode()
    assert client.get(f"{URL}{mine.pk}/change/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403  # other models: the usual permissions

    grant_revoke(grant=Grant.objects.get(user=reviewer, role="reviewer"))
    reviewer.refresh_from_db()
    assert not reviewer.is_staff
    assert logged_in(reviewer).get(URL).status_code == 302  # back to the admin's login


def test_other_roles_do_not_make_staff_and_superusers_stay_staff(db):
    from backend.accounts.models import Grant
    from backend.accounts.services import grant_revoke, grant_role

    scanner = UserFactory()
    grant_role(user=scanner, role="scanner", scope_type="event", scope_id="1")
    grant_role(user=scanner, role="group_rep", scope_type="group", scope_id="1")
    scanner.refresh_from_db()
    assert not scanner.is_staff  # scanners and group representatives work in the app only
    boss = UserFactory(is_staff=True, is_superuser=True)
    grant_role(user=boss, role="platform_admin")
    grant_revoke(grant=Grant.objects.get(user=boss))
    boss.refresh_from_db()
    assert boss.is_staff
