"""Bulk import from CSV or Excel: every row or none, with a per-row error report."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from backend.core.models import AuditLog
from backend.credentials import services
from backend.credentials.errors import ImportFailed
from backend.credentials.models import Credential, Practitioner
from backend.credentials.services import imports
from tests.credentials import factories as f
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号", "手机", "工作单位", "证件类型", "证书编号", "资格", "有效期起", "有效期止"]


@pytest.fixture
def assoc():
    return f.association("深圳市燃气行业协会")


@pytest.fixture
def admin_api(api, assoc):
    return api.as_user(f.association_admin(assoc))


def _row(name, number, cert, until="2028-12-31", mobile="13800138000"):
    return [name, number, mobile, "安心燃气", "燃气安装维修", cert, "四级", "2026-01-01", until]


def _csv(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _upload(admin_api, assoc, data, name="import.csv", **params):
    query = "?dry_run=true" if params.get("dry_run") else ""
    return admin_api.upload(
        f"/associations/{assoc.pk}/import{query}", {"file": (name, data, "application/octet-stream")}
    )


def test_csv_import_creates_practitioners_and_credentials_with_tokens(admin_api, assoc, api):
    same_person = f.id_number()
    rows = [
        _row("张小三", same_person, "SZRQ-1"),
        _row("张小三", same_person, "SZRQ-2"),
        _row("李四", f.id_number(), "SZRQ-3"),
    ]
    response = _upload(admin_api, assoc, _csv(rows))
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "rows": 3,
        "practitioners_created": 2,
        "credentials_created": 3,
        "dry_run": False,
    }
    assert Practitioner.objects.count() == 2 and Credential.objects.count() == 3
    token = Credential.objects.get(certificate_no="SZRQ-3").token
    assert api.get(f"/verify/{token}").json()["status"] == "valid"
    assert AuditLog.objects.filter(action="credential.import").count() == 1


def test_one_bad_row_imports_nothing_and_reports_every_error_by_row(admin_api, assoc):
    existing = f.credential(f.practitioner(assoc), certificate_no="SZRQ-OLD")
    rows = [
        _row("张小三", f.id_number(), "SZRQ-1"),
        _row("李四", "440309198506150011", "SZRQ-2", mobile="123"),  # bad ID check char, bad mobile
        _row("王五", f.id_number(), "SZRQ-1"),  # duplicate in file
        _row("", f.id_number(), existing.certificate_no, until="2025-13-01"),  # no name, taken, bad date
    ]
    response = _upload(admin_api, assoc, _csv(rows))
    body = assert_error(response, 422, "import_failed")
    got = {(e["row"], e["field"], e["code"]) for e in body["details"]["errors"]}
    assert got == {
        (3, "id_number", "invalid_id_number"),
        (3, "mobile", "invalid_phone"),
        (4, "certificate_no", "duplicate_in_file"),
        (5, "name", "required"),
        (5, "valid_until", "invalid_date"),
        (5, "certificate_no", "certificate_number_taken"),
    }
    assert body["details"]["rows_with_errors"] == 3
    assert all(e["message"] for e in body["details"]["errors"])
    assert Credential.objects.count() == 1 and Practitioner.objects.count() == 1


def test_missing_columns_are_reported_on_the_header_row(admin_api, assoc):
    body = assert_error(
        _upload(admin_api, assoc, _csv([], header=["姓名", "身份证号"])), 422, "import_failed"
    )
    assert {e["field"] for e in body["details"]["errors"]} == {
        "type",
        "certificate_no",
        "qualification",
        "valid_from",
        "valid_until",
    }
    assert {e["row"] for e in body["details"]["errors"]} == {1}


def test_excel_import_with_real_dates_and_english_headers(admin_api, assoc):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "name",
            "id_number",
            "mobile",
            "employer",
            "type",
            "certificate_no",
            "qualification",
            "valid_from",
            "valid_until",
        ]
    )
    sheet.append(
        [
            "赵六",
            f.id_number(),
            13900139000,
            "单位",
            "燃气",
            "XL-1",
            "四级",
            datetime(2026, 1, 1),
            date(2029, 6, 30),
        ]
    )
    buf = io.BytesIO()
    book.save(buf)
    response = _upload(admin_api, assoc, buf.getvalue(), name="import.xlsx")
    assert response.status_code == 200, response.json()
    credential = Credential.objects.get()
    assert credential.valid_until == date(2029, 6, 30) and credential.practitioner.mobile == "13900139000"


def test_gb18030_csv_from_excel_on_windows(admin_api, assoc):
    response = _upload(admin_api, assoc, _csv([_row("钱七", f.id_number(), "GB-1")], encoding="gb18030"))
    assert response.status_code == 200 and Practitioner.objects.get().name == "钱七"


def test_dry_run_checks_without_writing(admin_api, assoc):
    response = _upload(admin_api, assoc, _csv([_row("孙八", f.id_number(), "D-1")]), dry_run=True)
    assert response.json()["dry_run"] is True and response.json()["credentials_created"] == 1
    assert not Credential.objects.exists()


def test_unreadable_file_is_refused(admin_api, assoc):
    assert_error(
        _upload(admin_api, assoc, b"PK\x03\x04garbage", name="x.xlsx"), 422, "import_file_unreadable"
    )
    assert_error(
        _upload(admin_api, assoc, b"\xff\xfe\x00\x00\x81", name="x.csv"), 422, "import_file_unreadable"
    )


def test_an_empty_file_or_too_many_rows_is_refused_on_the_header_row(admin_api, assoc, settings):
    body = assert_error(_upload(admin_api, assoc, b"\n,,\n"), 422, "import_failed")
    assert [(e["row"], e["field"], e["code"]) for e in body["details"]["errors"]] == [(1, "file", "empty")]
    settings.LINLI_CREDENTIAL_IMPORT_MAX_ROWS = 1
    rows = [_row("周九", f.id_number(), "E-1"), _row("吴十", f.id_number(), "E-2")]
    body = assert_error(_upload(admin_api, assoc, _csv(rows)), 422, "import_failed")
    assert [(e["row"], e["code"]) for e in body["details"]["errors"]] == [(1, "too_many_rows")]
    assert not Practitioner.objects.exists()


def test_a_number_taken_between_the_check_and_the_write_writes_nothing(assoc, monkeypatch):
    rows = [_row("郑十一", f.id_number(), "F-1"), _row("王十二", f.id_number(), "F-2")]
    real_plan = imports._plan

    def plan_then_someone_takes_f2(*args):
        plan = real_plan(*args)
        f.credential(f.practitioner(assoc, name="冯十三"), certificate_no="F-2")
        return plan

    monkeypatch.setattr(imports, "_plan", plan_then_someone_takes_f2)
    with pytest.raises(ImportFailed) as failed:
        services.credentials_import(actor=None, association=assoc, data=_csv(rows))
    assert [e["code"] for e in failed.value.details["errors"]] == ["certificate_number_taken"]
    assert list(Practitioner.objects.values_list("name", flat=True)) == ["冯十三"]
