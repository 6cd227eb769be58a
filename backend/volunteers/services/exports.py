"""Exports of an organisation's service records (Excel or CSV, personal data masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.volunteers import documents, selectors
from backend.volunteers.models import Organisation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class RecordsExport:
    content: bytes
    content_type: str
    filename: str


def service_records_export(
    *,
    organisation: Organisation,
    by: User,
    format: str = "xlsx",
    status: str | None = None,
    today: date | None = None,
) -> RecordsExport:
    """Every record of the organisation (of one ``status`` if given), oldest first, as ``xlsx``
    or ``csv``; the export is audited."""
    records = selectors.organisation_records_all(organisation=organisation, status=status).iterator(
        chunk_size=1000
    )
    audit_record(actor=by, action="service_records.exported", target=organisation, data={"format": format})
    name = f"service-records-{organisation.pk}-{(today or timezone.localdate()):%Y%m%d}"
    if format == "csv":
        return RecordsExport(documents.records_csv(records), "text/csv; charset=utf-8", f"{name}.csv")
    return RecordsExport(documents.records_xlsx(records), XLSX, f"{name}.xlsx")
