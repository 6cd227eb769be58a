"""The /v/ pages, the manual lookup, scan statistics, the expiry job and the demo data."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from backend.credentials import services
from backend.credentials.jobs import credentials_expiring_notify
from backend.credentials.lookup.log import lookup_log
from backend.credentials.models import Credential, LookupLog
from backend.notifications.models import Notification
from tests.credentials import factories as f
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_page_shows_status_photoless_card_and_check_time_without_numbers():
    credential = f.valid_credential()
    response = Client().get(f"/v/{credential.token}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert 'data-status="valid"' in html and "有效" in html and "张*三" in html
    assert "查验时间" in html and "张小三" not in html and "13800138000" not in html
    assert "<script" not in html and "http://" not in html.replace("http://testserver", "")
    assert len(response.content) < 8000


def test_page_for_a_forged_token_says_not_genuine_without_a_query(django_assert_num_queries):
    credential = f.valid_credential()
    client = Client()
    client.get(f"/v/{credential.token}")
    # One character of the signature changed. (Not the last two: the last byte of an Ed25519
    # signature is below 0x10, so writing "AA" there left one token in sixteen unchanged — the
    # cause of this test's rare failures, a genuine token costing its one query.)
    token = credential.token
    forged = token[:100] + ("B" if token[100] != "B" else "C") + token[101:]
    assert forged != token
    with django_assert_num_queries(0):
        response = client.get(f"/v/{forged}")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-status="not_genuine"' in html and "非本平台签发" in html


def test_page_rate_limit_answers_429(settings):
    settings.LINLI_LOOKUP_RATE = "1/m"
    credential = f.valid_credential()
    client = Client()
    assert client.get(f"/v/{credential.token}").status_code == 200
    response = client.get(f"/v/{credential.token}")
    assert response.status_code == 429 and response["Retry-After"]
    assert "请稍后再试" in response.content.decode()


def test_manual_lookup_needs_number_and_name_and_answers_the_same_for_unknown_and_mismatch(api):
    credential = f.valid_credential(certificate_no="SZRQ-2026-0007")
    ok = api.post("/verify/manual", {"certificate_no": "szrq-2026-0007", "name": " 张小三 "})
    assert ok.status_code == 200 and ok.json()["status"] == "valid" and ok["Cache-Control"] == "no-store"
    mismatch = api.post("/verify/manual", {"certificate_no": "SZRQ-2026-0007", "name": "张小四"})
    unknown = api.post("/verify/manual", {"certificate_no": "SZRQ-2026-9999", "name": "张小三"})
    assert_error(mismatch, 404, "not_found")
    assert mismatch.json() == unknown.json()
    services.credential_revoke(actor=None, credential=credential, reason="违规")
    assert (
        api.post("/verify/manual", {"certificate_no": "SZRQ-2026-0007", "name": "张小三"}).json()["status"]
        == "revoked"
    )
    lookup_log.flush()
    assert list(
        LookupLog.objects.filter(channel="manual").order_by("id").values_list("result", flat=True)
    ) == [
        "valid",
        "not_found",
        "not_found",
        "revoked",
    ]


def test_manual_lookup_is_rate_limited(api, settings):
    settings.LINLI_MANUAL_LOOKUP_RATE = "2/m"
    for _ in range(2):
        api.post("/verify/manual", {"certificate_no": "X", "name": "Y"})
    assert_error(api.post("/verify/manual", {"certificate_no": "X", "name": "Y"}), 429, "rate_limited")


def test_manual_page_form_and_result():
    f.valid_credential(certificate_no="SZRQ-M-1")
    client = Client()
    assert "证书编号" in client.get("/v/").content.decode()
    found = client.post("/v/", {"certificate_no": "SZRQ-M-1", "name": "张小三"})
    assert found.status_code == 200 and 'data-status="valid"' in found.content.decode()
    missing = client.post("/v/", {"certificate_no": "SZRQ-M-1", "name": "李四"})
    assert missing.status_code == 404 and "未找到" in missing.content.decode()


def test_association_admin_sees_scan_statistics(api):
    credential = f.valid_credential()
    other = f.valid_credential()
    for _ in range(3):
        api.get(f"/verify/{credential.token}", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    Client().get(f"/v/{credential.token}")
    api.get(f"/verify/{other.token}")
    services.credential_suspend(actor=None, credential=credential, reason="调查")
    api.get(f"/verify/{credential.token}")
    admin = api.as_user(f.association_admin(credential.association))
    stats = admin.get(f"/associations/{credential.association_id}/scan-stats?days=7").json()
    assert stats["total"] == 5
    assert stats["by_result"] == {"valid": 4, "suspended": 1}
    assert stats["by_channel"] == {"api": 4, "page": 1}
    assert stats["by_client"]["android"] == 3
    assert stats["per_day"] == [{"date": timezone.localdate().isoformat(), "lookups": 5}]
    assert stats["top_credentials"] == [
        {"credential_id": credential.pk, "certificate_no": credential.certificate_no, "lookups": 5}
    ]
    outsider = api.as_user(f.association_admin(other.association))
    assert_error(outsider.get(f"/associations/{credential.association_id}/scan-stats"), 404, "not_found")


def test_lookup_log_buffer_writes_in_batches(settings, monkeypatch):
    from backend.credentials.lookup import log as lookup

    settings.LINLI_LOOKUP_LOG_BATCH = 12
    credential = f.valid_credential()
    client = Client()
    for _ in range(30):
        client.get(f"/api/v1/verify/{credential.token}")
    assert lookup_log.pending() == 30
    batches: list[int] = []
    real_insert = lookup.log_insert

    def counting_insert(rows):
        batches.append(len(rows))
        real_insert(rows)

    monkeypatch.setattr(lookup, "log_insert", counting_insert)
    assert lookup_log.flush() == 30
    assert batches == [12, 12, 6] and lookup_log.pending() == 0
    rows = LookupLog.objects.filter(credential_id=credential.pk)
    assert rows.count() == 30
    assert set(rows.values_list("result", "channel", "token_id")) == {("valid", "api", credential.token_id)}
    assert all(abs((timezone.now() - at).total_seconds()) < 60 for at in rows.values_list("at", flat=True))


def test_lookup_log_rows_stay_queued_when_writing_fails(monkeypatch):
    from backend.credentials.lookup import log as lookup

    credential = f.valid_credential()
    Client().get(f"/api/v1/verify/{credential.token}")

    def failing_insert(rows):
        raise OperationalError("database is locked")

    monkeypatch.setattr(lookup, "log_insert", failing_insert)
    with pytest.raises(OperationalError):
        lookup_log.flush()
    assert lookup_log.pending() == 1 and not LookupLog.objects.exists()
    monkeypatch.undo()
    assert lookup_log.flush() == 1
    assert LookupLog.objects.get().credential_id == credential.pk


def test_expiry_job_notifies_association_admins_once(django_capture_on_commit_callbacks):
    today = timezone.localdate()
    assoc = f.association()
    admin = f.association_admin(assoc)
    soon = f.credential(f.practitioner(assoc), valid_until=today + timedelta(days=20))
    f.credential(f.practitioner(assoc), valid_until=today + timedelta(days=90))  # too far
    suspended = f.credential(f.practitioner(assoc), valid_until=today + timedelta(days=10))
    services.credential_suspend(actor=None, credential=suspended, reason="x")
    assert credentials_expiring_notify(today=today) == 1
    assert credentials_expiring_notify(today=today) == 0  # idempotent
    note = Notification.objects.get(user=admin)
    assert note.kind == "credential.expiring" and soon.certificate_no in note.title
    assert "张*三" in note.body and "张小三" not in note.body
    # Renewed and then close to its new end date: announced again.
    services.credential_renew(actor=None, credential=soon, valid_until=today + timedelta(days=25))
    assert credentials_expiring_notify(today=today) == 1


def test_demo_seed_is_idempotent_and_shows_every_status(api):
    from backend.accounts.demo import demo_user
    from backend.credentials import demo

    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)
    statuses = {
        c.certificate_no: api.get(f"/verify/{c.token}").json()["status"] for c in Credential.objects.all()
    }
    assert sorted(statuses.values()) == sorted(["valid", "suspended", "revoked", "expired", "blacklisted"])
    admin = api.as_user(demo_user("association_admin"))
    assert len(admin.get("/associations").json()) == 1


def test_expiry_job_is_discovered_by_the_scheduler():
    from backend.notifications.scheduler import discover_jobs

    job = discover_jobs()["credentials.expiring_notices"]
    assert job.func is credentials_expiring_notify and job.every == timedelta(hours=6)
