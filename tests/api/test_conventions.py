"""API conventions every endpoint follows: one error body, two languages, idempotent retries."""

import json

import pytest
from django.utils import timezone

from backend.core.models import AppendOnlyError, AuditLog, IdempotencyRecord
from backend.divisions.models import Division
from tests.factories import UserFactory, user_with_role
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(db):
    Division.objects.create(code="44", name="广东省", level=1)
    Division.objects.create(code="4403", name="深圳市", level=2, parent_id="44")
    Division.objects.create(code="440309", name="龙华区", level=3, parent_id="4403")
    return Division.objects.create(code="440309002", name="民治街道", level=4, parent_id="440309")


@pytest.fixture
def reviewer(street):
    return user_with_role("reviewer", "division", "440309002")


def test_error_message_is_chinese_by_default():
    body = assert_error(ApiClient().get("/me"), 401, "not_authenticated")
    assert body["message"] == "请先登录。"


def test_error_message_is_english_when_asked():
    body = assert_error(ApiClient(lang="en-US,en;q=0.9").get("/me"), 401, "not_authenticated")
    assert body["message"] == "Authentication required."


def test_language_preference_honours_quality_values():
    body = assert_error(ApiClient(lang="en;q=0.4, zh-CN;q=0.8").get("/me"), 401, "not_authenticated")
    assert body["message"] == "请先登录。"


def test_unknown_api_path_is_404_error_body():
    assert_error(ApiClient().get("/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_error_body():
    response = ApiClient().delete("/ping")
    assert_error(response, 405, "method_not_allowed")


def test_validation_errors_name_each_field_in_both_languages():
    body = assert_error(ApiClient().post("/auth/dev-login", {}), 422, "validation_error")
    assert body["details"]["errors"] == [{"field": "phone", "code": "required", "message": "此项必填。"}]
    body = assert_error(ApiClient(lang="en").post("/auth/dev-login", {}), 422, "validation_error")
    assert body["details"]["errors"][0]["message"] == "This field is required."


def test_malformed_json_is_400_invalid_json():
    response = ApiClient().client.post("/api/v1/auth/dev-login", "{not json", content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_an_empty_body_where_one_is_required_is_a_validation_error():
    response = ApiClient().client.post("/api/v1/auth/dev-login", "", content_type="application/json")
    errors = assert_error(response, 422, "validation_error")["details"]["errors"]
    assert [e["code"] for e in errors] == ["required"]


def test_permission_denied_is_403_error_body(street):
    outsider = UserFactory()
    response = ApiClient(outsider).post(
        "/divisions/440309002/communities", {"code": "440309002001", "name": "民乐社区"}
    )
    assert_error(response, 403, "permission_denied")
    assert not Division.objects.filter(code="440309002001").exists()


def test_reviewer_of_another_street_may_not_add_communities(street):
    Division.objects.create(code="440309003", name="龙华街道", level=4, parent_id="440309")
    other = user_with_role("reviewer", "division", "440309003")
    response = ApiClient(other).post(
        "/divisions/440309002/communities", {"code": "440309002001", "name": "x"}
    )
    assert_error(response, 403, "permission_denied")


def test_reviewer_adds_a_community_and_it_is_audited(reviewer):
    response = ApiClient(reviewer).post(
        "/divisions/440309002/communities", {"code": "440309002001", "name": "民乐社区"}
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "code": "440309002001",
        "name": "民乐社区",
        "level": 5,
        "parent_code": "440309002",
    }
    entry = AuditLog.objects.get(action="division.community_created")
    assert entry.actor_id == reviewer.pk and entry.object_id == "440309002001"


def test_community_code_must_sit_under_its_street(reviewer):
    body = assert_error(
        ApiClient(reviewer).post("/divisions/440309002/communities", {"code": "440309003001", "name": "x"}),
        422,
        "validation_error",
    )
    assert body["details"]["errors"][0]["code"] == "invalid_division_code"


def test_retried_post_with_idempotency_key_creates_one_object(reviewer):
    client = ApiClient(reviewer)
    payload = {"code": "440309002001", "name": "民乐社区"}
    first = client.post("/divisions/440309002/communities", payload, headers={"Idempotency-Key": "k-1"})
    second = client.post("/divisions/440309002/communities", payload, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert AuditLog.objects.filter(action="division.community_created").count() == 1


def test_retried_sign_in_replays_the_same_tokens():
    client = ApiClient()
    first = client.post("/auth/dev-login", {"phone": "13800138000"}, headers={"Idempotency-Key": "login-1"})
    second = client.post("/auth/dev-login", {"phone": "13800138000"}, headers={"Idempotency-Key": "login-1"})
    assert first.json()["refresh_token"] == second.json()["refresh_token"]
    from backend.accounts.models import AuthSession

    assert AuthSession.objects.count() == 1


def test_idempotency_key_reused_with_another_body_is_422(reviewer):
    client = ApiClient(reviewer)
    client.post(
        "/divisions/440309002/communities",
        {"code": "440309002001", "name": "a"},
        headers={"Idempotency-Key": "k"},
    )
    response = client.post(
        "/divisions/440309002/communities",
        {"code": "440309002002", "name": "b"},
        headers={"Idempotency-Key": "k"},
    )
    assert_error(response, 422, "idempotency_key_reused")
    assert not Division.objects.filter(code="440309002002").exists()


def test_idempotency_key_while_first_still_running_is_409(reviewer):
    client = ApiClient(reviewer)
    payload = {"code": "440309002001", "name": "a"}
    from hashlib import sha256

    path = "/api/v1/divisions/440309002/communities"
    fingerprint = sha256(b"POST\n" + path.encode() + b"\n" + json.dumps(payload).encode()).hexdigest()
    IdempotencyRecord.objects.create(
        owner=f"u{reviewer.pk}", key="busy", fingerprint=fingerprint, created_at=timezone.now()
    )
    response = client.post("/divisions/440309002/communities", payload, headers={"Idempotency-Key": "busy"})
    assert_error(response, 409, "idempotency_in_progress")
    assert not Division.objects.filter(code="440309002001").exists()


def test_idempotency_keys_are_per_user(reviewer, street):
    other = user_with_role("reviewer", "division", "440309002")
    ApiClient(reviewer).post(
        "/divisions/440309002/communities",
        {"code": "440309002001", "name": "a"},
        headers={"Idempotency-Key": "same"},
    )
    response = ApiClient(other).post(
        "/divisions/440309002/communities",
        {"code": "440309002002", "name": "b"},
        headers={"Idempotency-Key": "same"},
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_failed_request_is_not_stored_for_replay(reviewer):
    client = ApiClient(reviewer)
    bad = client.post(
        "/divisions/440309002/communities", {"code": "1", "name": "a"}, headers={"Idempotency-Key": "x"}
    )
    assert bad.status_code == 422
    # A client error is a final answer too: replayed, not re-run.
    again = client.post(
        "/divisions/440309002/communities", {"code": "1", "name": "a"}, headers={"Idempotency-Key": "x"}
    )
    assert again.status_code == 422 and again["Idempotent-Replayed"] == "true"


def test_overlong_idempotency_key_is_rejected(reviewer):
    response = ApiClient(reviewer).post(
        "/divisions/440309002/communities",
        {"code": "440309002001", "name": "a"},
        headers={"Idempotency-Key": "k" * 300},
    )
    assert_error(response, 422, "validation_error")
    assert not Division.objects.filter(code="440309002001").exists()


def test_audit_log_rows_cannot_be_changed_or_deleted(reviewer):
    entry = AuditLog.objects.create(action="test.entry", actor=reviewer)
    entry.reason = "edited"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_openapi_and_docs_are_served():
    schema = ApiClient().get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/firebase" in paths and "/api/v1/health" in paths
    docs = ApiClient().get("/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content


def test_health_reports_database_cache_channel_layer_and_storage():
    response = ApiClient().get("/health")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "cache": True,
        "channel_layer": True,
        "storage": True,
    }


def test_me_shows_only_the_callers_own_roles(reviewer):
    user_with_role("platform_admin")
    body = ApiClient(reviewer).get("/me").json()
    assert body["roles"] == [{"role": "reviewer", "scope_type": "division", "scope_id": "440309002"}]
