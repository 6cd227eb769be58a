"""Settings of the filings domain, read lazily so tests can override them with ``settings``.

Jurisdiction rules (founders, members, materials, time limits) are not settings: they live in
``FilingPolicy`` rows per division. The values here are the fallback at the top of the tree and
the few things that are national law or technical limits.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

# The typical policy (湘潭 2023, see the brief): used where no division up the tree says otherwise.
DEFAULT_POLICY: dict[str, Any] = {
    "min_founders": 2,
    "min_members": 10,
    "required_attachments": ["application_form", "member_roster", "charter", "venue_proof"],
    "review_days": 7,
    "review_working_days": True,
    "validity_years": 3,
    "renewal_window_days": 15,
    "reviewing_level": "street",
    "annual_report_due_month": 5,
    "annual_report_due_day": 31,
}

# 民政部令69号: words a name may not start with, and words it may not contain at all.
FORBIDDEN_NAME_PREFIXES = ("中国", "全国", "中华", "国际", "世界")
FORBIDDEN_NAME_WORDS = ("第一", "最高", "国家级")
# Organisation forms a filed community group's name ends with (region + field + form).
ORGANISATION_FORMS = (
    "协会", "促进会", "联合会", "联谊会", "研究会", "服务社", "服务队", "志愿服务队", "志愿队", "服务站",
    "中心", "小组", "俱乐部", "合唱团", "艺术团", "舞蹈队", "球队", "车队", "巡逻队", "互助会", "议事会",
    "队", "社", "团", "会", "站", "坊", "苑", "室", "群",
)  # fmt: skip


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def default_policy() -> dict[str, Any]:
    return {**DEFAULT_POLICY, **_get("LINLI_FILING_DEFAULT_POLICY", {})}


def attachment_max_bytes() -> int:
    return int(_get("LINLI_FILING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def attachment_max_pixels() -> int:
    return int(_get("LINLI_FILING_ATTACHMENT_MAX_PIXELS", 40_000_000))


def name_change_block_days() -> int:
    """A name changed or deregistered less than this long ago cannot be taken (69号令: 1 year)."""
    return int(_get("LINLI_FILING_NAME_RELEASE_DAYS", 365))


def name_revoked_block_days() -> int:
    """A revoked organisation's name stays blocked this long (69号令: 3 years)."""
    return int(_get("LINLI_FILING_NAME_REVOKED_DAYS", 3 * 365))


def listing_fix_removal_working_days() -> int:
    """After the duty is met, the listing is removed within this many working days (60号令: 5)."""
    return int(_get("LINLI_CREDIT_FIX_REMOVAL_WORKING_DAYS", 5))


def listing_auto_removal_months() -> int:
    """A listing with nothing to fix is removed automatically after this many months (6)."""
    return int(_get("LINLI_CREDIT_AUTO_REMOVAL_MONTHS", 6))


def serious_after_years() -> int:
    """Years on the abnormal list, duty unmet, before the serious list (2)."""
    return int(_get("LINLI_CREDIT_SERIOUS_AFTER_YEARS", 2))


def serious_clean_years() -> int:
    """Clean years before a serious listing is removed (2)."""
    return int(_get("LINLI_CREDIT_SERIOUS_CLEAN_YEARS", 2))


def due_soon_working_days() -> int:
    """Reviewers are warned when a filing is due within this many working days."""
    return int(_get("LINLI_FILING_DUE_SOON_WORKING_DAYS", 1))


CREDIT_BASIS = "《社会组织信用信息管理办法》（民政部令第60号）"
