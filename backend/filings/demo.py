"""Demo data: a district policy, a filed group of the demo representative, and a filing waiting
for the demo reviewer of 民治街道. Idempotent."""

from __future__ import annotations

from backend.accounts.demo import DEMO_COMMUNITY, DEMO_STREET, demo_user
from backend.core.validators import resident_id_check_char
from backend.divisions.models import Division
from backend.filings import services
from backend.filings.models import Filing, FilingPolicy
from backend.filings.selectors import filing_policy_effective

DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
NUMERALS = "一二三四五六七八九十"


def _id_number(seq: int) -> str:
    first17 = f"44030919700101{seq:03d}"
    return first17 + resident_id_check_char(first17)


def _roster(offset: int) -> list[dict]:
    return [
        {
            "name": f"演示成员{NUMERALS[i % 10]}{offset + i}",
            "id_number": _id_number(offset + i),
            "phone": f"1380013{offset + i:04d}",
            "role": "founder" if i < 2 else "member",
        }
        for i in range(10)
    ]


def _filing(rep, name: str, category: str, offset: int) -> Filing:
    existing = Filing.objects.filter(rep=rep, name=name).order_by("id").first()
    if existing is not None:
        return existing
    filing = services.filing_create(
        actor=rep,
        data={
            "name": name,
            "category": category,
            "community": DEMO_COMMUNITY,
            "address": "深圳市龙华区民治街道民治社区党群服务中心",
            "activity_area": "民治社区",
            "purpose": "服务社区居民，开展互助与文体活动",
            "guiding_unit": "民治社区党委",
            "rep_name": rep.display_name or "演示组织负责人",
            "party_members": 2,
            "party_org": False,
            "party_in_charter": True,
            "persons": _roster(offset),
        },
    )
    for kind in filing_policy_effective(division_code=DEMO_COMMUNITY).required_attachments:
        services.filing_attachment_add(
            filing=filing, actor=rep, kind=kind, content=DEMO_PDF, filename=f"{kind}.pdf"
        )
    services.filing_submit(filing=filing, actor=rep)
    return filing


def seed(stdout) -> None:
    if not Division.objects.filter(code=DEMO_COMMUNITY).exists():
        stdout.write("filings: demo community missing (run load_divisions first); skipped")
        return
    FilingPolicy.objects.get_or_create(division_id=DEMO_STREET[:6], defaults={"review_days": 10})
    rep, reviewer = demo_user("group_rep"), demo_user("reviewer")
    filed = _filing(rep, "民治社区夕阳红合唱团", "culture_sports", 1)
    if filed.status == Filing.Status.SUBMITTED:
        services.filing_accept(filing=filed, actor=reviewer)
    if filed.status == Filing.Status.ACCEPTED:
        services.filing_approve(filing=filed, actor=reviewer)
    waiting = _filing(rep, "民治社区邻里互助志愿服务队", "volunteer_team", 20)
    stdout.write(f"filings: group {filed.name} ({filed.status}), filing {waiting.name} ({waiting.status})")
