"""A person's copy of their personal data (PIPL Art. 45): ``GET /me/data``.

Each domain contributes its part through the ``personal_data`` hook (what it holds about the
person, why, and what a cancellation keeps); accounts contributes the account itself. The copy
includes the full ID number, so producing it is an audited read.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from backend.accounts.hooks import DataSection, iso, personal_data
from backend.accounts.models import AccountCancellation, AuthSession, Grant, User
from backend.core.audit import audit_record
from backend.core.i18n import T


def personal_data_copy(*, user: User) -> dict[str, Any]:
    """Every section of the user's data, in the order the domains registered."""
    sections = [*account_sections(user), *(s for found in personal_data.call_all(user) for s in found)]
    audit_record(
        actor=user, action="personal_data.copied", target=user, data={"sections": [s.key for s in sections]}
    )
    return {"generated_at": iso(timezone.now()), "user_id": user.pk, "sections": sections}


def account_sections(user: User) -> list[DataSection]:
    grants = Grant.objects.filter(user=user).order_by("pk")
    sessions = AuthSession.objects.filter(user=user).order_by("-pk")
    cancellations = AccountCancellation.objects.filter(user=user).order_by("pk")
    return [
        DataSection(
            key="account",
            title=T("账号", "Account"),
            purpose=T("用手机号识别你并让你登录。", "Identifies you by your phone number and signs you in."),
            data={
                "phone": user.phone,
                "display_name": user.display_name,
                "joined_at": iso(user.date_joined),
                "firebase_uid": user.firebase_uid,
                "roles": [
                    {
                        "role": g.role,
                        "scope_type": g.scope_type,
                        "scope_id": g.scope_id,
                        "granted_at": iso(g.created_at),
                        "valid_until": iso(g.valid_until),
                    }
                    for g in grants
                ],
                "cancellations": [
                    {
                        "requested_at": iso(c.requested_at),
                        "effective_at": iso(c.effective_at),
                        "withdrawn_at": iso(c.withdrawn_at),
                    }
                    for c in cancellations
                ],
            },
            kept_after_cancellation=T(
                "仅保留假名（审计日志中的账号编号）。",
                "Only the pseudonym (the account id in the audit log).",
            ),
        ),
        DataSection(
            key="sessions",
            title=T("登录设备", "Signed-in devices"),
            purpose=T(
                "让你在各设备上保持登录，并能逐一退出；用于安全审计。",
                "Keeps your devices signed in, lets you end each; security audit.",
            ),
            data=[
                {
                    "method": s.method,
                    "signed_in_at": iso(s.created_at),
                    "ended_at": iso(s.revoked_at),
                    "ip": s.ip,
                    "user_agent": s.user_agent,
                }
                for s in sessions
            ],
            kept_after_cancellation=T(
                "不保留：申请注销时即全部退出，注销生效时删除。",
                "Nothing: all end at the request and are deleted when it takes effect.",
            ),
        ),
    ]
