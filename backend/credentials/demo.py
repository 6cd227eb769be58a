"""Demo data: the 深圳市燃气行业协会 (demo) with practitioners whose badges show every status."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from backend.accounts.demo import demo_user
from backend.accounts.models import Role, ScopeType
from backend.accounts.services import grant_role
from backend.core.validators import resident_id_check_char
from backend.credentials import services
from backend.credentials.badges import credential_url
from backend.credentials.models import Association, BlacklistEntry, Credential, Practitioner

DEMO_ASSOCIATION = "深圳市燃气行业协会（演示）"

# name, ID number (valid check digits, fictitious), certificate, status to show
_PEOPLE = [
    ("张小三", "44030919850615001X", "SZRQ-DEMO-0001", "valid"),
    ("李四海", "440309199002020024", "SZRQ-DEMO-0002", "suspended"),
    ("王五月", "440309198803030038", "SZRQ-DEMO-0003", "revoked"),
    ("赵六一", "440309197712120044", "SZRQ-DEMO-0004", "expired"),
    ("钱七星", "440309199207070059", "SZRQ-DEMO-0005", "blacklisted"),
]


def _fix(number: str) -> str:
    return number[:17] + resident_id_check_char(number[:17])


def seed(stdout) -> None:
    association = Association.objects.filter(name=services.clean_text(DEMO_ASSOCIATION)).first()
    if association is None:
        association = services.association_create(
            actor=None, name=DEMO_ASSOCIATION, short_name="燃气协会", contact_phone="0755-12345678"
        )
    grant_role(
        user=demo_user("association_admin"),
        role=Role.ASSOCIATION_ADMIN,
        scope_type=ScopeType.ASSOCIATION,
        scope_id=str(association.pk),
    )
    today = timezone.localdate()
    for name, number, certificate, status in _PEOPLE:
        if Credential.objects.filter(association=association, certificate_no=certificate).exists():
            continue
        person = Practitioner.objects.filter(association=association, name=name).first() or (
            services.practitioner_create(
                actor=None,
                association=association,
                name=name,
                id_number=_fix(number),
                mobile="13900139000",
                employer="深圳市安心燃气服务有限公司",
            )
        )
        expired = status == "expired"
        credential = services.credential_issue(
            actor=None,
            practitioner=person,
            type="燃气安装维修",
            certificate_no=certificate,
            qualification="燃气燃烧器具安装维修工（四级）",
            valid_from=today - timedelta(days=400 if expired else 30),
            valid_until=today - timedelta(days=1) if expired else today + timedelta(days=700),
        )
        if status == "suspended":
            services.credential_suspend(actor=None, credential=credential, reason="用户投诉，调查中")
        elif status == "revoked":
            services.credential_revoke(actor=None, credential=credential, reason="违规操作造成燃气泄漏")
        elif status == "blacklisted" and not BlacklistEntry.objects.filter(practitioner=person).exists():
            services.practitioner_blacklist(
                actor=None,
                practitioner=person,
                listed_on=today,
                reason="冒用他人证件",
                basis="协会自律公约第十二条",
            )
    stdout.write(f"credentials: {DEMO_ASSOCIATION}, {len(_PEOPLE)} practitioners")
    first = Credential.objects.filter(association=association, certificate_no=_PEOPLE[0][2]).first()
    if first is not None:
        stdout.write(f"credentials: a valid badge opens {credential_url(first)}")
