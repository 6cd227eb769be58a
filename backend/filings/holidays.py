"""China's public holidays and make-up workdays (调休), as published by the State Council.

Only exceptions to "Monday to Friday work" are listed: holidays (also those on weekends, so the
calendar shows their names) and weekend days that are workdays. Staff keep the calendar in the
Django admin; ``calendar_seed`` (run by a data migration and by ``manage.py seed_work_calendar``)
writes these rows idempotently and never overwrites a row staff changed.

2027: the State Council had not published its arrangement when this was written. Only the
statutory holidays (全国年节及纪念日放假办法, as amended in 2024) are listed, without any 调休;
replace them when the notice is out (it usually comes in November of the year before).
"""

from __future__ import annotations

from datetime import date, timedelta

SRC_2025 = "国务院办公厅关于2025年部分节假日安排的通知（2024年11月12日）"
SRC_2026 = "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"
SRC_2027 = "法定节假日（暂定：2027年国务院放假调休安排尚未录入）"


def _span(first: str, last: str, name: str, source: str) -> list[tuple[date, bool, str, str]]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i), False, name, source) for i in range((end - start).days + 1)]


def _work(day: str, name: str, source: str) -> tuple[date, bool, str, str]:
    return (date.fromisoformat(day), True, f"{name}调休上班", source)


HOLIDAYS: list[tuple[date, bool, str, str]] = [
    # 2025
    *_span("2025-01-01", "2025-01-01", "元旦", SRC_2025),
    *_span("2025-01-28", "2025-02-04", "春节", SRC_2025),
    _work("2025-01-26", "春节", SRC_2025),
    _work("2025-02-08", "春节", SRC_2025),
    *_span("2025-04-04", "2025-04-06", "清明节", SRC_2025),
    *_span("2025-05-01", "2025-05-05", "劳动节", SRC_2025),
    _work("2025-04-27", "劳动节", SRC_2025),
    *_span("2025-05-31", "2025-06-02", "端午节", SRC_2025),
    *_span("2025-10-01", "2025-10-08", "国庆节、中秋节", SRC_2025),
    _work("2025-09-28", "国庆节", SRC_2025),
    _work("2025-10-11", "国庆节", SRC_2025),
    # 2026
    *_span("2026-01-01", "2026-01-03", "元旦", SRC_2026),
    _work("2026-01-04", "元旦", SRC_2026),
    *_span("2026-02-15", "2026-02-23", "春节", SRC_2026),
    _work("2026-02-14", "春节", SRC_2026),
    _work("2026-02-28", "春节", SRC_2026),
    *_span("2026-04-04", "2026-04-06", "清明节", SRC_2026),
    *_span("2026-05-01", "2026-05-05", "劳动节", SRC_2026),
    _work("2026-05-09", "劳动节", SRC_2026),
    *_span("2026-06-19", "2026-06-21", "端午节", SRC_2026),
    *_span("2026-09-25", "2026-09-27", "中秋节", SRC_2026),
    *_span("2026-10-01", "2026-10-07", "国庆节", SRC_2026),
    _work("2026-09-20", "国庆节", SRC_2026),
    _work("2026-10-10", "国庆节", SRC_2026),
    # 2027, provisional: statutory days only (see the module docstring)
    *_span("2027-01-01", "2027-01-01", "元旦", SRC_2027),
    *_span("2027-02-05", "2027-02-08", "春节", SRC_2027),  # 除夕 and 正月初一 to 初三 (初一 = 2 月 6 日)
    *_span("2027-04-05", "2027-04-05", "清明节", SRC_2027),
    *_span("2027-05-01", "2027-05-02", "劳动节", SRC_2027),
    *_span("2027-06-09", "2027-06-09", "端午节", SRC_2027),
    *_span("2027-09-15", "2027-09-15", "中秋节", SRC_2027),
    *_span("2027-10-01", "2027-10-03", "国庆节", SRC_2027),
]


def calendar_seed(model) -> int:
    """Write the rows above that are missing (``model`` may be a historical migration model)."""
    existing = set(model.objects.values_list("day", flat=True))
    rows = [
        model(day=day, is_workday=is_workday, name=name, source=source)
        for day, is_workday, name, source in HOLIDAYS
        if day not in existing
    ]
    model.objects.bulk_create(rows)
    return len(rows)
