"""Fixtures of the filings tests: a few divisions, a representative, reviewers, files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.core.validators import resident_id_check_char
from backend.divisions.models import Division
from tests.factories import UserFactory, user_with_role
from tests.support.wechat_fixtures import wechat, wechat_standin  # noqa: F401 - content checks

STREET = "440309002"
COMMUNITY = "440309002001"
OTHER_STREET = "440309003"
OTHER_COMMUNITY = "440309003001"

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
REQUIRED_KINDS = ("application_form", "member_roster", "charter", "venue_proof")


def id_number(seq: int, birth: str = "19800101", region: str = "440309") -> str:
    first17 = f"{region}{birth}{seq % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def roster(members: int = 10, founders: int = 2, start: int = 1) -> list[dict]:
    return [
        {
            "name": f"成员{chr(0x4E00 + i)}{i}",
            "id_number": id_number(start + i),
            "phone": f"139{start + i:08d}",
            "role": "founder" if i < founders else "member",
        }
        for i in range(members)
    ]


def jpeg(size=(64, 48), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def filing_payload(**overrides) -> dict:
    data = {
        "name": "民治社区夕阳红合唱团",
        "category": "culture_sports",
        "community": COMMUNITY,
        "address": "深圳市龙华区民治街道民治社区党群服务中心",
        "activity_area": "民治社区",
        "purpose": "丰富社区老年人文化生活",
        "guiding_unit": "民治社区党委",
        "rep_name": "张小三",
        "party_members": 3,
        "party_org": False,
        "party_in_charter": True,
        "persons": roster(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def divisions(db):
    rows = [
        ("44", "广东省", 1, None),
        ("4403", "深圳市", 2, "44"),
        ("440309", "龙华区", 3, "4403"),
        (STREET, "民治街道", 4, "440309"),
        (COMMUNITY, "民治社区", 5, STREET),
        (OTHER_STREET, "观湖街道", 4, "440309"),
        (OTHER_COMMUNITY, "观城社区", 5, OTHER_STREET),
    ]
    for code, name, level, parent in rows:
        Division.objects.create(code=code, name=name, level=level, parent_id=parent)


@pytest.fixture
def rep(divisions):
    return UserFactory(display_name="张小三")


@pytest.fixture
def reviewer(divisions):
    return user_with_role("reviewer", "division", STREET, display_name="民治审核员")


@pytest.fixture
def reviewer2(divisions):
    return user_with_role("reviewer", "division", STREET, display_name="民治审核员二")


@pytest.fixture
def other_reviewer(divisions):
    return user_with_role("reviewer", "division", OTHER_STREET, display_name="观湖审核员")


@pytest.fixture
def district_reviewer(divisions):
    return user_with_role("reviewer", "division", "440309", display_name="龙华区审核员")


@pytest.fixture
def rep_api(api, rep):
    return api.as_user(rep)


@pytest.fixture
def reviewer_api(api, reviewer):
    return api.as_user(reviewer)


def upload_all(client, filing_id: int, kinds=REQUIRED_KINDS) -> None:
    for kind in kinds:
        r = client.upload(
            f"/filings/{filing_id}/attachments",
            {"file": (f"{kind}.jpg", jpeg(), "image/jpeg")},
            {"kind": kind},
        )
        assert r.status_code == 201, r.json()


@pytest.fixture
def submitted_filing(rep_api):
    """A complete filing, submitted: returns its id."""
    r = rep_api.post("/filings", filing_payload())
    assert r.status_code == 201, r.json()
    filing_id = r.json()["id"]
    upload_all(rep_api, filing_id)
    r = rep_api.post(f"/filings/{filing_id}/submit")
    assert r.status_code == 200, r.json()
    return filing_id
