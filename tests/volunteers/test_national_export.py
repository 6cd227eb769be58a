"""Export to the national volunteer data standard through the API: JSON and XLSX, approved records
only, full ID numbers for the recording organisation's coordinators, audited."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from backend.core.crypto import unseal
from backend.core.models import AuditLog
from backend.volunteers.models import ID_PURPOSE
from backend.volunteers.services.national_export import RECORD_FIELDS, VOLUNTEER_FIELDS
from tests.helpers import assert_error
from tests.volunteers import factories as f

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 7)


def test_json_export_has_volunteers_and_approved_records_in_the_national_field_set(
    api, org, coordinator, vol
):
    f.record(vol, org, f.at(DAY, 9), f.at(DAY, 12), "n1", content="引导服务")
    f.record(vol, org, f.at(DAY, 13), f.at(DAY, 15), "n2", source="backfill")  # pending: not exported
    response = api.as_user(coordinator).get(f"/volunteer/organisations/{org.pk}/national-export")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["standard"].startswith("MZ/T 061-2015")
    assert [v["key"] for v in body["fields"]["volunteers"]] == [k for k, _ in VOLUNTEER_FIELDS]
    assert {m["name"] for m in body["missing_fields"]} >= {"民族", "政治面貌", "学历"}
    [volunteer] = body["volunteers"]
    number = unseal(vol.volunteer_profile.id_number_sealed, purpose=ID_PURPOSE)
    assert volunteer["id_number"] == number and volunteer["name"] == "张小三" and volunteer["gender"] == "男"
    [record] = body["service_records"]
    assert set(record) == {k for k, _ in RECORD_FIELDS}
    assert (record["hours"], record["content"], record["id_number"]) == ("3.0", "引导服务", number)
    assert record["started_at"].endswith("+08:00") and record["organisation"] == org.name
    assert AuditLog.objects.filter(action="volunteers.national_export", actor=coordinator).exists()


def test_xlsx_export_has_one_sheet_per_entity_and_the_missing_fields(api, org, coordinator, vol):
    from openpyxl import load_workbook

    f.record(vol, org, f.at(DAY, 9), f.at(DAY, 12), "n1")
    response = api.as_user(coordinator).get(
        f"/volunteer/organisations/{org.pk}/national-export", {"format": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["志愿者", "志愿服务记录", "缺失字段"]
    rows = list(book["志愿服务记录"].iter_rows(values_only=True))
    assert list(rows[0]) == [name for _, name in RECORD_FIELDS] and len(rows) == 2
    assert rows[1][list(dict(RECORD_FIELDS)).index("hours")] == "3.0"


def test_only_the_organisations_coordinators_export(api, org, vol):
    other = f.coordinator_of(f.organisation("别的协会"))
    path = f"/volunteer/organisations/{org.pk}/national-export"
    assert_error(api.as_user(other).get(path), 404, "not_found")
    assert_error(api.as_user(vol).get(path), 404, "not_found")
