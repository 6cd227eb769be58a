"""Export to the national volunteer data standard (志愿服务信息系统基本规范, MZ/T 061-2015): an
organisation's volunteers and approved service records, as JSON or XLSX, for a city to hand its
records to the national volunteer information system.

Field list followed (and where it is incomplete): the standard's own data dictionary was not at
hand while this was written. The fields below follow its published summary (志愿者, 志愿服务时间,
志愿服务证书 elements; a national volunteer number rather than the ID number as identifier) and
the record fields of 志愿服务记录与证明出具办法 (2020) Art. 7-8: name, ID type and number, volunteer
number, activity, date, place, recipients, content, hours, evaluation, lead and recorder. The
standard's element codes, its category code lists (service fields, 政治面貌, 学历…) and the
fields Linli does not hold are listed in ``MISSING`` and exported as empty, so the receiving side
sees what is missing rather than a guess. Keys are stable English names; ``fields`` gives the
Chinese name of each.

Only approved (``valid``) records go out. The full ID number is needed for matching in the
national system: the export is for coordinators of the recording organisation and platform
admins, and every export is audited with the number of ID numbers it contains.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import unseal
from backend.volunteers.models import (
    ID_PURPOSE,
    Organisation,
    ServiceRecord,
    VolunteerConsent,
    VolunteerProfile,
)
from backend.volunteers.services.exports import XLSX, RecordsExport

STANDARD = "MZ/T 061-2015 志愿服务信息系统基本规范"
VOLUNTEER_FIELDS = [
    ("volunteer_no", "志愿者编号"),
    ("name", "姓名"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("mobile", "联系电话"),
    ("region_code", "所在地区划代码"),
    ("region_name", "所在地"),
    ("skills", "技能特长"),
    ("service_intentions", "服务意向"),
    ("available_times", "可服务时间"),
    ("registered_at", "注册时间"),
    ("guardian_name", "监护人姓名"),
    ("guardian_mobile", "监护人联系电话"),
    ("guardian_consent_at", "监护人同意时间"),
]
RECORD_FIELDS = [
    ("record_id", "记录编号"),
    ("volunteer_no", "志愿者编号"),
    ("name", "姓名"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("project_id", "志愿服务项目编号"),
    ("project_name", "志愿服务项目名称"),
    ("project_region_code", "项目所在地区划代码"),
    ("organisation", "记录组织"),
    ("organisation_uscc", "记录组织统一社会信用代码"),
    ("service_date", "服务日期"),
    ("started_at", "开始时间"),
    ("ended_at", "结束时间"),
    ("hours", "服务时长（小时）"),
    ("hours_kind", "时长类型"),
    ("place", "服务地点"),
    ("content", "服务内容"),
    ("recipients", "服务对象"),
    ("evaluation", "服务评价"),
    ("lead", "负责人"),
    ("recorder", "记录人"),
    ("recorded_at", "记录时间"),
]
MISSING = [
    ("nation", "民族", "not collected at registration"),
    ("political_status", "政治面貌", "not collected"),
    ("education", "学历", "not collected"),
    ("nationality", "国籍", "not collected (resident ID holders only)"),
    ("email", "电子邮箱", "not collected"),
    ("employer", "工作单位/学校", "not collected"),
    ("service_field_code", "服务领域代码", "the standard's code list is not mapped; category is free text"),
    ("national_volunteer_id", "全国志愿者统一编号", "assigned by the national system on import"),
    ("element_codes", "数据元标识符", "the standard's element identifiers were not available"),
]
GENDER = {"male": "男", "female": "女"}


@dataclass
class _Rows:
    volunteers: list[dict[str, Any]]
    records: list[dict[str, Any]]


def _local(moment: Any) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _person(user: User | None) -> str:
    if user is None:
        return ""
    profile = getattr(user, "volunteer_profile", None)
    return getattr(profile, "real_name", "") or user.display_name


def _volunteer_row(profile: VolunteerProfile) -> dict[str, Any]:
    guardian = next(
        (
            c
            for c in profile.consents.all()
            if c.kind == VolunteerConsent.Kind.GUARDIAN and c.withdrawn_at is None
        ),
        None,
    )
    return {
        "volunteer_no": profile.volunteer_no or "",
        "name": profile.real_name,
        "id_type": profile.get_id_type_display(),
        "id_number": unseal(profile.id_number_sealed, purpose=ID_PURPOSE),
        "gender": GENDER.get(profile.gender, ""),
        "birth_date": profile.birth_date.isoformat(),
        "mobile": profile.mobile,
        "region_code": profile.division_id,
        "region_name": profile.division.name,
        "skills": "、".join(profile.skills or []),
        "service_intentions": "、".join(profile.service_categories or []),
        "available_times": "、".join(profile.available_times or []),
        "registered_at": _local(profile.created_at),
        "guardian_name": profile.guardian_name,
        "guardian_mobile": profile.guardian_mobile,
        "guardian_consent_at": _local(guardian.accepted_at) if guardian else "",
    }


def _record_row(record: ServiceRecord, profile: dict[str, Any]) -> dict[str, Any]:
    activity = record.activity
    return {
        "record_id": record.pk,
        "volunteer_no": profile.get("volunteer_no", ""),
        "name": profile.get("name", ""),
        "id_type": profile.get("id_type", ""),
        "id_number": profile.get("id_number", ""),
        "project_id": activity.pk if activity else "",
        "project_name": activity.title if activity else "",
        "project_region_code": activity.division_id if activity else "",
        "organisation": record.organisation.name,
        "organisation_uscc": record.organisation.uscc,
        "service_date": record.service_date.isoformat(),
        "started_at": _local(record.started_at),
        "ended_at": _local(record.ended_at),
        "hours": f"{record.hours:.1f}",
        "hours_kind": record.get_kind_display(),
        "place": record.place,
        "content": record.content,
        "recipients": record.recipients,
        "evaluation": record.evaluation,
        "lead": _person(record.lead),
        "recorder": _person(record.recorder),
        "recorded_at": _local(record.created_at),
    }


def _rows(organisation: Organisation) -> _Rows:
    records = list(
        ServiceRecord.objects.filter(organisation=organisation, status=ServiceRecord.Status.VALID)
        .select_related("organisation", "activity", "lead__volunteer_profile", "recorder__volunteer_profile")
        .order_by("service_date", "id")
    )
    profiles = (
        VolunteerProfile.objects.filter(user_id__in={r.user_id for r in records})
        .select_related("division")
        .prefetch_related("consents")
        .order_by("id")
    )
    volunteers = {p.user_id: _volunteer_row(p) for p in profiles}
    return _Rows(
        volunteers=list(volunteers.values()),
        records=[_record_row(r, volunteers.get(r.user_id, {})) for r in records],
    )


def _fields(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": k, "name": n} for k, n in pairs]


def _json(organisation: Organisation, rows: _Rows) -> bytes:
    body = {
        "standard": STANDARD,
        "generated_at": _local(timezone.now()),
        "organisation": {
            "name": organisation.name,
            "uscc": organisation.uscc,
            "region_code": organisation.division_id,
        },
        "fields": {"volunteers": _fields(VOLUNTEER_FIELDS), "service_records": _fields(RECORD_FIELDS)},
        "missing_fields": [{"key": k, "name": n, "why": why} for k, n, why in MISSING],
        "volunteers": rows.volunteers,
        "service_records": rows.records,
    }
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def _xlsx(rows: _Rows) -> bytes:
    from openpyxl import Workbook

    from backend.volunteers.documents import _safe_cell

    book = Workbook(write_only=True)
    for title, fields, items in (
        ("志愿者", VOLUNTEER_FIELDS, rows.volunteers),
        ("志愿服务记录", RECORD_FIELDS, rows.records),
    ):
        sheet = book.create_sheet(title=title)
        sheet.append([name for _, name in fields])
        for item in items:
            sheet.append([_safe_cell(str(item[key])) for key, _ in fields])
    notes = book.create_sheet(title="缺失字段")
    notes.append(["字段", "说明"])
    for _, name, why in MISSING:
        notes.append([name, why])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def national_export(*, organisation: Organisation, by: User, format: str = "json") -> RecordsExport:
    """The organisation's volunteers and approved records in the national field set (audited)."""
    rows = _rows(organisation)
    audit_record(
        actor=by,
        action="volunteers.national_export",
        target=organisation,
        data={"format": format, "volunteers": len(rows.volunteers), "records": len(rows.records)},
        reason="full ID numbers exported for the national volunteer information system",
    )
    name = f"national-{organisation.pk}-{timezone.localdate():%Y%m%d}"
    if format == "xlsx":
        return RecordsExport(_xlsx(rows), XLSX, f"{name}.xlsx")
    return RecordsExport(_json(organisation, rows), "application/json", f"{name}.json")
