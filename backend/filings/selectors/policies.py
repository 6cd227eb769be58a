"""The filing policy in force for a division: each rule from the nearest division that sets it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backend.divisions.selectors import division_ancestor_codes
from backend.filings import conf
from backend.filings.models import FilingPolicy

POLICY_FIELDS = tuple(conf.DEFAULT_POLICY)


@dataclass(frozen=True)
class EffectivePolicy:
    division_code: str
    min_founders: int
    min_members: int
    required_attachments: list[str]
    review_days: int
    review_working_days: bool
    validity_years: int
    renewal_window_days: int
    reviewing_level: str
    annual_report_due_month: int
    annual_report_due_day: int
    # Which division set each value ("" = the national default).
    sources: dict[str, str] = field(default_factory=dict)

    def reviewing_division_code(self) -> str:
        """The division whose reviewers decide: the street (9 digits) or the district (6)."""
        return self.division_code[: 9 if self.reviewing_level == "street" else 6]

    def annual_report_deadline(self, year: int) -> date:
        """The last day to file the report for ``year`` (in the following year)."""
        month, day = self.annual_report_due_month, self.annual_report_due_day
        try:
            return date(year + 1, month, day)
        except ValueError:  # e.g. 29 February in a common year
            return date(year + 1, month, 28)


def filing_policy_effective(*, division_code: str) -> EffectivePolicy:
    """The policy for a division: each field from the nearest division up the tree that sets it."""
    codes = division_ancestor_codes(division_code)
    rows = {p.division_id: p for p in FilingPolicy.objects.filter(division_id__in=codes)}
    values: dict[str, Any] = dict(conf.default_policy())
    sources = dict.fromkeys(values, "")
    for code in codes:  # from the province down: deeper divisions override
        policy = rows.get(code)
        if policy is None:
            continue
        for name in POLICY_FIELDS:
            value = getattr(policy, name)
            if value is None or value == "":
                continue
            values[name] = value
            sources[name] = code
    return EffectivePolicy(division_code=division_code, sources=sources, **values)
