"""Bulk import of practitioners and credentials from CSV or Excel: all rows or none.

One row per credential. Columns (header row, Chinese or English names, any order):

    姓名 name · 身份证号 id_number · 手机 mobile · 工作单位 employer · 证件类型 type ·
    证书编号 certificate_no · 资格 qualification · 有效期起 valid_from · 有效期止 valid_until

A person already registered with the association (same ID number) is reused; several rows may
name the same person with different certificates. Every row is checked first; if any row has an
error, nothing is written and the answer lists each error with its row number (the header is row
1, as a spreadsheet shows it). Otherwise all rows are written in one transaction.

The steps: ``read_table`` (bytes → rows of cells), ``_table`` (header, limits), ``_plan`` (every
row checked against the rules of the API and against the association's data), ``_write``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from django.core.files import File
from django.db import transaction

from backend.core.audit import audit_record
from backend.core.errors import DomainError, ValidationFailed, field_error
from backend.core.i18n import T
from backend.credentials import conf
from backend.credentials.errors import ImportFailed, ImportFileUnreadable
from backend.credentials.models import Association, Credential, Practitioner
from backend.credentials.services.credentials import credential_fields, credential_issue
from backend.credentials.services.practitioners import practitioner_create, practitioner_fields

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


def _table(data: bytes, filename: str) -> tuple[dict[int, str], list[list[Any]]]:
    """The column mapping and the body rows (blank rows dropped); ``ImportFailed`` for an empty
    file, missing columns or too many rows."""
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
    return mapping, body


class _Numbers:
    """Certificate numbers already taken in the association, and those seen so far in the file."""

    def __init__(self, association: Association) -> None:
        self.taken = set(
            Credential.objects.filter(association=association).values_list("certificate_no", flat=True)
        )
        self.seen: dict[str, int] = {}  # number → the row that first named it

    def check(self, number: str, row_no: int) -> list[dict]:
        if number in self.taken:
            return [
                field_error(
                    "certificate_no", "certificate_number_taken", T("证书编号已存在。", "Already exists.")
                )
            ]
        first = self.seen.get(number)
        if first is not None:
            return [
                field_error(
                    "certificate_no",
                    "duplicate_in_file",
                    T(f"与第 {first} 行重复。", f"Duplicates row {first}."),
                )
            ]
        self.seen[number] = row_no
        return []


def _row_check(row_no: int, values: dict[str, Any], numbers: _Numbers) -> tuple[dict[str, Any], list[dict]]:
    """One row as a step of the plan, and its errors (each with the row number)."""
    person, person_errors = practitioner_fields(
        name=values.get("name"),
        id_number=values.get("id_number"),
        mobile=values.get("mobile", ""),
        employer=values.get("employer", ""),
    )
    credential, credential_errors = credential_fields(
        type=values.get("type"),
        certificate_no=values.get("certificate_no"),
        qualification=values.get("qualification"),
        valid_from=values.get("valid_from"),
        valid_until=values.get("valid_until"),
    )
    errors = person_errors + credential_errors
    number = credential.get("certificate_no")
    if number:
        errors += numbers.check(number, row_no)
    item = {"row": row_no, "person": person, "credential": credential, "values": values}
    return item, [{"row": row_no, **error} for error in errors]


def _plan(association: Association, mapping: dict[int, str], body: list[list[Any]]) -> list[dict[str, Any]]:
    """Every row checked; ``ImportFailed`` listing each error by row when any row has one."""
    numbers = _Numbers(association)
    plan: list[dict[str, Any]] = []
    all_errors: list[dict] = []
    for offset, row in enumerate(body):
        values = {key: (row[i] if i < len(row) else "") for i, key in mapping.items()}
        item, errors = _row_check(offset + 2, values, numbers)  # the header is row 1
        if errors:
            all_errors.extend(errors)
        else:
            plan.append(item)
    if all_errors:
        raise ImportFailed(
            errors=all_errors, rows=len(body), rows_with_errors=len({e["row"] for e in all_errors})
        )
    return plan


def _write(
    *,
    actor: Any,
    association: Association,
    plan: list[dict[str, Any]],
    known: dict[str, int],
    summary: dict[str, Any],
    filename: str,
) -> None:
    """Create the new practitioners and every credential in one transaction; a change by someone
    else since the check (a number taken meanwhile) writes nothing."""
    try:
        with transaction.atomic():
            by_index = dict(known)
            for item in plan:
                index = item["person"]["id_number_index"]
                if index not in by_index:
                    values = item["values"]
                    by_index[index] = practitioner_create(
                        actor=actor,
                        association=association,
                        name=values.get("name"),
                        id_number=values.get("id_number"),
                        mobile=values.get("mobile", ""),
                        employer=values.get("employer", ""),
                    ).pk
                practitioner = Practitioner(pk=by_index[index], association_id=association.pk)
                credential_issue(actor=actor, practitioner=practitioner, **item["credential"])
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


def credentials_import(
    *, actor: Any, association: Association, data: bytes, filename: str = "", dry_run: bool = False
) -> dict[str, Any]:
    """Check every row, then write all of them (or, with ``dry_run``, none); returns a summary.

    Raises ``ImportFailed`` (422) with ``details.errors = [{row, field, code, message}, ...]``."""
    mapping, body = _table(data, filename)
    known = dict(Practitioner.objects.filter(association=association).values_list("id_number_index", "pk"))
    plan = _plan(association, mapping, body)
    new_people = {p["person"]["id_number_index"] for p in plan} - set(known)
    summary = {"rows": len(plan), "practitioners_created": len(new_people), "credentials_created": len(plan)}
    if not dry_run:
        _write(
            actor=actor, association=association, plan=plan, known=known, summary=summary, filename=filename
        )
    return {**summary, "dry_run": bool(dry_run)}


def credentials_import_upload(
    *, actor: Any, association: Association, upload: File, dry_run: bool = False
) -> dict[str, Any]:
    """``credentials_import`` for an uploaded file: one over the size limit is refused before it
    is read."""
    if upload.size and upload.size > conf.import_max_bytes():
        raise ValidationFailed(
            errors=[field_error("file", "too_large", T("文件过大。", "The file is too large."))]
        )
    return credentials_import(
        actor=actor, association=association, data=upload.read(), filename=upload.name or "", dry_run=dry_run
    )
