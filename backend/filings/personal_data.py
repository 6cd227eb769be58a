"""The filings domain's part of a person's data rights: filings and groups they represent.

Cancellation keeps the filings and groups (the street office must keep its filing records and
rosters) under the pseudonym: the representative's name on them is replaced."""

from __future__ import annotations

from typing import Any

from backend.accounts.hooks import DataSection, account_erasing, iso, personal_data
from backend.core.i18n import T
from backend.filings.models import Filing, Group


@personal_data.register
def filings_data(user: Any) -> list[DataSection]:
    return [
        DataSection(
            key="filings",
            title=T("社区社会组织备案", "Community-group filings"),
            purpose=T(
                "你作为负责人提交的备案及其审查（民政部门须留存）。",
                "Filings you submitted as representative and their review (kept by civil affairs).",
            ),
            data={
                "filings": [
                    {
                        "id": f.pk,
                        "name": f.name,
                        "kind": f.kind,
                        "status": f.status,
                        "rep_name": f.rep_name,
                        "created_at": iso(f.created_at),
                    }
                    for f in Filing.objects.filter(rep=user).order_by("pk")
                ],
                "groups": [
                    {
                        "id": g.pk,
                        "name": g.name,
                        "filing_number": g.filing_number,
                        "status": g.status,
                        "rep_name": g.rep_name,
                    }
                    for g in Group.objects.filter(rep=user).order_by("pk")
                ],
            },
            kept_after_cancellation=T(
                "备案记录和名册保留，负责人姓名改为假名。",
                "Filings and rosters are kept; the representative's name becomes the pseudonym.",
            ),
        )
    ]


@account_erasing.register
def filings_erasing(user: Any, pseudonym: str) -> None:
    Filing.objects.filter(rep=user).update(rep_name=pseudonym)
    Group.objects.filter(rep=user).update(rep_name=pseudonym)
