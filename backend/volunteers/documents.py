"""Documents: the service certificate PDF (fpdf2) and record exports (Excel via openpyxl, CSV).

The certificate needs a CJK font for Chinese text (``media.badge.find_cjk_font``). Without one
it is rendered in English with a Latin core font instead of failing, and says so on the page
(``certificate_pdf`` returns ``(pdf_bytes, used_cjk_font)``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from backend.core.crypto import unseal
from backend.core.masking import mask_id_number, mask_name
from backend.volunteers import conf
from backend.volunteers.models import ID_PURPOSE, Certificate, ServiceRecord, VolunteerProfile
from backend.volunteers.proofs import proof_url
from backend.volunteers.selectors import masked_person, volunteer_shown

VERIFY_PATH = "/api/v1/certificates/verify/"


def certificate_verify_url(cert: Certificate) -> str:
    return f"{conf.public_base_url()}{VERIFY_PATH}{cert.verify_code}"


def certificate_qr_png(cert: Certificate) -> bytes:
    """The QR of the signed proof (``/c/<TOKEN>``, ``backend.volunteers.proofs``); certificates
    issued before proofs existed keep their short verification code."""
    from media.qr import qr_for_url, qr_png

    if cert.proof_token:
        prefix, token = proof_url(""), cert.proof_token
        return qr_png(qr_for_url(prefix, token, error="m", max_version=25), scale=4, border=2)
    url = certificate_verify_url(cert)
    prefix, token = url[: -len(cert.verify_code)], cert.verify_code
    return qr_png(qr_for_url(prefix, token, error="m"), scale=6, border=2)


@dataclass
class _Line:
    zh: str
    en: str
    value: str


def certificate_pdf(
    *, cert: Certificate, profile: VolunteerProfile, font_path: str | None = None
) -> tuple[bytes, bool]:
    """The certificate as PDF bytes and whether a CJK font was available."""
    from fpdf import FPDF

    from media.badge import find_cjk_font

    font = find_cjk_font(font_path)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"志愿服务证明 {cert.number}" if font else f"Volunteer service certificate {cert.number}")
    pdf.set_subject(certificate_verify_url(cert))
    pdf.set_keywords(f"certificate {cert.number} verify {cert.verify_code}")
    pdf.set_creator("Linli")
    pdf.add_page()
    cjk = False
    if font:
        try:
            pdf.add_font("cjk", "", font)
            cjk = True
        except Exception:  # an unreadable font file must not cost the volunteer the certificate
            cjk = False
    family = "cjk" if cjk else "helvetica"

    issued = timezone.localtime(cert.issued_at)
    id_masked = cert.id_number_masked or mask_id_number(unseal(profile.id_number_sealed, purpose=ID_PURPOSE))
    lines = [
        _Line("姓名", "Name", cert.holder_name_masked if not cjk else mask_name(profile.real_name)),
        _Line("证件类型", "ID type", (cert.id_type or "居民身份证") if cjk else "Resident ID card"),
        _Line("证件号码", "ID number", id_masked),
        _Line("志愿者编号", "Volunteer number", cert.volunteer_no),
        _Line("服务时数", "Service hours", f"{cert.hours} 小时" if cjk else f"{cert.hours} h"),
        _Line("其中信用时数", "of which recorded", f"{cert.recorded_hours}"),
        _Line("其中补录时数", "of which backfilled", f"{cert.backfilled_hours}"),
        _Line("服务内容", "Service content", cert.content or "—"),
        _Line("出具组织", "Issued by", cert.organisation.name),
        _Line("经办人", "Handler", cert.handler or "—"),
        _Line("证明编号", "Certificate number", cert.number),
        _Line("出具日期", "Date", issued.strftime("%Y-%m-%d")),
    ]
    pdf.set_draw_color(178, 34, 34)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_text_color(178, 34, 34)
    pdf.set_font(family, size=24)
    pdf.set_xy(10, 28)
    pdf.cell(190, 12, "志愿服务证明" if cjk else "Volunteer Service Certificate", align="C")
    pdf.set_text_color(20, 24, 31)
    pdf.set_font(family, size=12)
    y: float = 56
    for line in lines:
        label = line.zh if cjk else line.en
        value = line.value if cjk else _latin(line.value)
        pdf.set_xy(25, y)
        pdf.cell(45, 9, f"{label}：" if cjk else f"{label}:")
        pdf.set_xy(70, y)
        pdf.multi_cell(110, 9, value, align="L")
        y = max(pdf.get_y(), y + 9) + 2
    statement = (
        "兹证明上述志愿者在本组织参加志愿服务，服务记录真实有效。本证明免费出具，可扫描二维码核验。"
        if cjk
        else "This certifies the volunteer service recorded above. Issued free of charge; scan the QR code to verify."
    )
    pdf.set_xy(25, y + 4)
    pdf.multi_cell(160, 8, statement)
    qr = io.BytesIO(certificate_qr_png(cert))
    pdf.image(qr, x=140, y=218, w=50, h=50)
    pdf.set_font(family, size=8)
    if cert.proof_token:
        pdf.set_xy(20, 256)
        pdf.multi_cell(
            115,
            5,
            "扫码核验：二维码内含经数字签名的证明内容，可离线核验；撤销状态以核验页为准。"
            if cjk
            else "Scan to verify: the QR carries the signed proof, verifiable offline.",
        )
    pdf.set_xy(20, 266)
    pdf.multi_cell(115, 5, certificate_verify_url(cert))
    if not cjk:
        pdf.set_xy(20, 250)
        pdf.multi_cell(
            125, 5, "No CJK font on the server: Chinese text is shown in English or transliterated."
        )
    return bytes(pdf.output()), cjk


def _latin(text: str) -> str:
    """Core fonts only carry Latin-1: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


EXPORT_COLUMNS = [
    ("编号", "id"),
    ("志愿者编号", "volunteer_no"),
    ("姓名", "name"),
    ("手机", "mobile"),
    ("日期", "date"),
    ("开始", "started_at"),
    ("结束", "ended_at"),
    ("活动", "activity"),
    ("地点", "place"),
    ("服务对象", "recipients"),
    ("内容", "content"),
    ("时数", "hours"),
    ("类别", "kind"),
    ("状态", "status"),
    ("来源", "source"),
    ("负责人", "lead"),
    ("记录人", "recorder"),
    ("评价", "evaluation"),
]


def _row(record: ServiceRecord) -> list[str]:
    who = volunteer_shown(record.user)
    local = timezone.localtime
    values = {
        "id": str(record.pk),
        "volunteer_no": who.volunteer_no,
        "name": who.name_masked,
        "mobile": who.mobile_masked,
        "date": record.service_date.isoformat(),
        "started_at": local(record.started_at).strftime("%Y-%m-%d %H:%M"),
        "ended_at": local(record.ended_at).strftime("%Y-%m-%d %H:%M"),
        "activity": record.activity.title if record.activity else "",
        "place": record.place,
        "recipients": record.recipients,
        "content": record.content,
        "hours": str(record.hours),
        "kind": record.get_kind_display(),
        "status": record.get_status_display(),
        "source": record.get_source_display(),
        "lead": masked_person(record.lead),
        "recorder": masked_person(record.recorder),
        "evaluation": record.evaluation,
    }
    return [_safe_cell(values[key]) for _, key in EXPORT_COLUMNS]


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV/formula injection) in user-entered text."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def records_csv(records: Iterable[ServiceRecord]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for title, _ in EXPORT_COLUMNS])
    for record in records:
        writer.writerow(_row(record))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def records_xlsx(records: Iterable[ServiceRecord], *, title: str = "服务记录") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([t for t, _ in EXPORT_COLUMNS])
    for record in records:
        row = _row(record)
        hours_index = [k for _, k in EXPORT_COLUMNS].index("hours")
        row_values: list[object] = list(row)
        row_values[hours_index] = float(record.hours)
        ws.append(row_values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
