"""Bulk import of practitioners and credentials from CSV or Excel: all rows or none.

One row per credential. Columns (header row, Chinese or English names, any order):

    姓名 name · 身份证号 id_number · 手机 mobile · 工作单位 employer · 证件类型 type ·
    证书编号 certificate_no · 资格 qualification · 有效期起 valid_from · 有效期止 valid_until

A person already registered with the association (same ID number) is reused; several rows may
name the same person with different certificates. Every row is checked first; if any row has an
error, nothing is written and the answer lists each error with its row number (the header is row
1, as a spreadsheet shows it). Otherwise all rows are written in one transaction.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import DomainError, field_error
from backend.core.i18n import T
from backend.credentials import conf, services
from backend.credentials.errors import ImportFailed, ImportFileUnreadable
from backend.credentials.models import Association, Credential, Practitioner

COLUMNS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "id_number"),
    "mobile": ("手机", "手机号", "手机号码", "mobile"),
    "employer": ("工作单位", "单位", "employer"),
    "type": ("证件类型", "类型", "type"),
    "certificate_no": ("证书编号", "certificate_no"),
    "qualification": ("资格", "资格等级", "qualification"),
    "valid_from": ("有效期起", "valid_from"),
    "valid_until": ("有效期止", "valid_until"),
}
REQUIRED = ("name", "id_number", "type", "certificate_no", "qualification", "valid_from", "valid_until")
_ALIASES = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in aliases}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, date) else ("" if value is None else str(value))


def read_table(data: bytes, filename: str = "") -> list[list[Any]]:
    """Rows of cells from CSV (UTF-8, with or without BOM, or GB18030) or .xlsx bytes."""
    if len(data) > conf.import_max_bytes():
        raise ImportFileUnreadable(limit=conf.import_max_bytes())
    if data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            book.close()
        except Exception:
            raise ImportFileUnreadable() from None
        return rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileUnreadable()
    if "\x00" in text:
        raise ImportFileUnreadable()
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _header(row: list[Any]) -> tuple[dict[int, str], list[dict]]:
    mapping: dict[int, str] = {}
    for i, cell in enumerate(row):
        key = _ALIASES.get(str(cell or "").strip().lower())
        if key and key not in mapping.values():
            mapping[i] = key
    missing = [key for key in REQUIRED if key not in mapping.values()]
    errors = [
        {
            "row": 1,
            **field_error(key, "missing_column", T(f"缺少列：{COLUMNS[key][0]}", f"Missing column: {key}")),
        }
        for key in missing
    ]
    return mapping, errors


def _row_errors(row_no: int, errors: list[dict]) -> list[dict]:
    return [{"row": row_no, **error} for error in errors]


def credentials_import(
    *, actor: Any, association: Association, data: bytes, filename: str = "", dry_run=False
):
    """Check every row, then write all of them (or, with ``dry_run``, none); returns a summary.

    Raises ``ImportFailed`` (422) with ``details.errors = [{row, field, code, message}, ...]``."""
    table = [row for row in read_table(data, filename) if any(str(c or "").strip() for c in row)]
    if not table:
        raise ImportFailed(
            errors=[{"row": 1, **field_error("file", "empty", T("文件为空。", "The file is empty."))}]
        )
    mapping, errors = _header(table[0])
    if errors:
        raise ImportFailed(errors=errors)
    body = table[1:]
    if len(body) > conf.import_max_rows():
        raise ImportFailed(
            errors=[{"row": 1, **field_error("file", "too_many_rows", T("行数过多。", "Too many rows."))}],
            limit=conf.import_max_rows(),
        )

    known = dict(Practitioner.objects.filter(association=association).values_list("id_number_index", "pk"))
    taken = set(Credential.objects.filter(association=association).values_list("certificate_no", flat=True))
    seen_numbers: dict[str, int] = {}
    plan: list[dict[str, Any]] = []
    all_errors: list[dict] = []
    for offset, row in enumerate(body):
        row_no = offset + 2
        values = {key: (row[i] if i < len(row) else "") for i, key in mapping.items()}
        person, person_errors = services.practitioner_fields(
            name=values.get("name"),
            id_number=values.get("id_number"),
            mobile=values.get("mobile", ""),
            employer=values.get("employer", ""),
        )
        credential, credential_errors = services.credential_fields(
            type=values.get("type"),
            certificate_no=values.get("certificate_no"),
            qualification=values.get("qualification"),
            valid_from=values.get("valid_from"),
            valid_until=values.get("valid_until"),
        )
        row_errors = person_errors + credential_errors
        number = credential.get("certificate_no")
        if number:
            if number in taken:
                row_errors.append(
                    field_error(
                        "certificate_no", "certificate_number_taken", T("证书编号已存在。", "Already exists.")
                    )
                )
            elif number in seen_numbers:
                row_errors.append(
                    field_error(
                        "certificate_no",
                        "duplicate_in_file",
                        T(f"与第 {seen_numbers[number]} 行重复。", f"Duplicates row {seen_numbers[number]}."),
                    )
                )
            else:
                seen_numbers[number] = row_no
        if row_errors:
            all_errors.extend(_row_errors(row_no, row_errors))
            continue
        plan.append({"row": row_no, "person": person, "credential": credential, "values": values})
    if all_errors:
        raise ImportFailed(
            errors=all_errors, rows=len(body), rows_with_errors=len({e["row"] for e in all_errors})
        )

    new_people = {p["person"]["id_number_index"] for p in plan} - set(known)
    summary = {"rows": len(plan), "practitioners_created": len(new_people), "credentials_created": len(plan)}
    if dry_run:
        return {**summary, "dry_run": True}
    try:
        with transaction.atomic():
            by_index = dict(known)
            for item in plan:
                index = item["person"]["id_number_index"]
                if index not in by_index:
                    values = item["values"]
                    by_index[index] = services.practitioner_create(
                        actor=actor,
                        association=association,
                        name=values.get("name"),
                        id_number=values.get("id_number"),
                        mobile=values.get("mobile", ""),
                        employer=values.get("employer", ""),
                    ).pk
                practitioner = Practitioner(pk=by_index[index], association_id=association.pk)
                services.credential_issue(actor=actor, practitioner=practitioner, **item["credential"])
            audit_record(
                actor=actor,
                action="credential.import",
                target=association,
                data={**summary, "file": filename},
            )
    except DomainError as exc:  # a concurrent change since the check: nothing was written
        raise ImportFailed(
            errors=[{"row": None, "field": "", "code": exc.error_code, "message": exc.text}]
        ) from None
    return {**summary, "dry_run": False}
