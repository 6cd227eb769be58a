"""The contract findings of the fuzzing audit, each through the API: what a client gets now."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from api.main import api as ninja_api
from backend.accounts.models import Role
from backend.checkin.models import Pass
from tests.checkin import factories as f
from tests.helpers import assert_error
from tests.support import contract
from tests.volunteers import factories as vf

pytestmark = pytest.mark.django_db

OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+08:00$")


@pytest.fixture
def no_firebase(settings, monkeypatch):
    settings.FIREBASE_CREDENTIALS = ""
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)

    def refuse(*args, **kwargs):  # pragma: no cover - reached only if the fix regresses
        raise AssertionError("the Firebase SDK was asked for credentials")

    monkeypatch.setattr("firebase_admin.initialize_app", refuse)
    monkeypatch.setattr("google.auth.default", refuse)


def test_firebase_sign_in_without_configuration_is_503_and_asks_nobody(api, no_firebase):
    response = api.post("/auth/firebase", {"id_token": "eyJhbGciOiJSUzI1NiJ9.e30.x"})
    assert_error(response, 503, "firebase_not_configured")


def test_multipart_without_a_boundary_is_a_json_400(api):
    coordinator = vf.coordinator_of(vf.organisation())
    response = api.as_user(coordinator).request(
        "post", "/filings/1/attachments", b"--x\r\n\r\nabc", content_type="multipart/form-data"
    )
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize("path", ["/orgs/9223372036854775808", "/rivers/99999999999999999999999/issues"])
def test_an_id_past_the_database_range_is_422(api, path):
    assert_error(api.get(path), 422, "validation_error")


def test_an_id_past_the_database_range_in_a_post_is_422(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    response = api.as_user(coordinator).post(f"/events/{2**63}/passes/{2**64}/void", {"reason": "x"})
    assert_error(response, 422, "validation_error")


def test_published_id_range_is_the_bigint_range():
    document = ninja_api.get_openapi_schema(path_prefix="/api/v1/")
    parameter = document["paths"]["/api/v1/orgs/{group_id}"]["get"]["parameters"][0]
    assert parameter["schema"]["minimum"] == -(2**63)
    assert parameter["schema"]["maximum"] == 2**63 - 1


@pytest.mark.parametrize("body", ["hello", [None, None], 5, True])
def test_a_body_that_is_not_an_object_is_422_and_changes_nothing(api, body):
    ev = f.event(title="邻里节")
    coordinator = f.staff(ev, Role.COORDINATOR)
    response = api.as_user(coordinator).patch(f"/events/{ev.pk}", body)
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["errors"][0]["code"] == "not_an_object"
    ev.refresh_from_db()
    assert ev.title == "邻里节"


def test_block_with_a_list_body_is_refused_and_the_pass_stays(api):
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    holder = f.attendee(ev)
    response = api.as_user(coordinator).post(f"/events/{ev.pk}/passes/{holder.pk}/block", [None, None])
    assert_error(response, 422, "validation_error")
    assert Pass.objects.get(pk=holder.pk).status == holder.status


def test_preferences_refuse_a_list_body(api, user):
    assert_error(api.as_user(user).put("/me/notification-preferences", [None, None]), 422, "validation_error")


def _event_body(org, **times):
    start = timezone.now() + timedelta(days=1)
    return {
        "organisation_id": org.pk,
        "title": "邻里节",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        **times,
    }


def test_false_is_not_an_id_and_zero_is_not_a_time(api):
    org = vf.organisation()
    coordinator = vf.coordinator_of(org)
    as_id = api.as_user(coordinator).post("/events", {**_event_body(org), "organisation_id": False})
    assert_error(as_id, 422, "validation_error")
    as_time = api.as_user(coordinator).post("/events", _event_body(org, starts_at=0))
    error = assert_error(as_time, 422, "validation_error")
    assert error["details"]["errors"][0]["field"] == "starts_at"


def test_a_time_without_offset_is_422_naming_the_field(api):
    org = vf.organisation()
    coordinator = vf.coordinator_of(org)
    response = api.as_user(coordinator, lang="en").post(
        "/events", _event_body(org, ends_at="2030-01-01T12:00:00")
    )
    error = assert_error(response, 422, "validation_error")
    [entry] = error["details"]["errors"]
    assert (entry["field"], entry["code"]) == ("ends_at", "offset_required")
    assert "offset" in entry["message"]


def test_rest_times_carry_the_plus_eight_offset(api):
    org = vf.organisation()
    coordinator = vf.coordinator_of(org)
    body = api.as_user(coordinator).post("/events", _event_body(org)).json()
    assert OFFSET.match(body["starts_at"]), body["starts_at"]
    assert OFFSET.match(body["checkin_opens_at"]), body["checkin_opens_at"]


@pytest.mark.parametrize("idempotent", [False, True])
def test_a_body_over_the_limit_is_413_with_the_json_body(api, settings, user, idempotent):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    headers = {"Idempotency-Key": "k-413"} if idempotent else {}
    response = api.as_user(user).put(
        "/me/notification-preferences", {"kinds": {"a" * 3000: True}}, headers=headers
    )
    assert_error(response, 413, "request_too_large")


def test_every_error_response_publishes_its_codes(api):
    document = api.get("/openapi.json").json()
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response.get("x-error-codes"), (operation["operationId"], status)
    signup = document["paths"]["/api/v1/shifts/{shift_id}/signups"]["post"]["responses"]
    assert "already_signed_up" in signup["409"]["x-error-codes"]
    assert "token_expired" in signup["401"]["x-error-codes"]
    assert "`not_found`" in signup["404"]["description"]
    content_checked = document["paths"]["/api/v1/activities"]["post"]["responses"]["422"]
    assert "content_rejected" in content_checked["x-error-codes"]


def test_the_contract_check_fails_an_error_code_the_operation_does_not_publish():
    body = json.dumps({"code": "no_such_code", "message": "x", "details": {}}).encode()
    with pytest.raises(contract.ContractViolation, match="no_such_code"):
        contract.check("GET", "/api/v1/orgs/1", 404, "application/json", body)
    ok = json.dumps({"code": "not_found", "message": "x", "details": {}}).encode()
    contract.check("GET", "/api/v1/orgs/1", 404, "application/json", ok)


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("/orgs?cursor=", "***", "invalid_cursor"),
        ("/filings/policy?division=", "4403x", "invalid_division"),
        ("/filings/name-check?name=a&division=", "4403", "invalid_division"),
    ],
)
def test_published_parameter_patterns_answer_the_servers_own_codes(api, path, value, code):
    error = assert_error(api.get(path + value), 422, "validation_error")
    assert error["details"]["errors"][0]["code"] == code
