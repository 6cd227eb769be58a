"""Factories of the credentials domain (through the services, so tokens are really signed)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from django.utils import timezone

from backend.core.validators import resident_id_check_char
from backend.credentials import services
from backend.credentials.models import Association, Credential, Practitioner
from tests.factories import user_with_role

_seq = itertools.count(1)


def id_number(n: int | None = None, birth: str = "19850615") -> str:
    """A valid resident ID number (GB 11643 check character), distinct per call."""
    n = next(_seq) if n is None else n
    first17 = f"440309{birth}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def association(name: str | None = None) -> Association:
    return services.association_create(actor=None, name=name or f"深圳市燃气行业协会{next(_seq)}")


def association_admin(assoc: Association):
    return user_with_role("association_admin", "association", str(assoc.pk))


def practitioner(assoc: Association, name: str = "张小三", **kw) -> Practitioner:
    kw.setdefault("id_number", id_number())
    kw.setdefault("mobile", "13800138000")
    kw.setdefault("employer", "深圳市安心燃气服务有限公司")
    return services.practitioner_create(actor=None, association=assoc, name=name, **kw)


def credential(person: Practitioner, **kw) -> Credential:
    today = timezone.localdate()
    kw.setdefault("type", "燃气安装维修")
    kw.setdefault("certificate_no", f"SZRQ-{next(_seq):06d}")
    kw.setdefault("qualification", "燃气燃烧器具安装维修工（四级）")
    kw.setdefault("valid_from", today - timedelta(days=30))
    kw.setdefault("valid_until", today + timedelta(days=365))
    return services.credential_issue(actor=None, practitioner=person, **kw)


def valid_credential(**kw) -> Credential:
    assoc = association()
    return credential(practitioner(assoc), **kw)


__all__ = [
    "association",
    "association_admin",
    "credential",
    "date",
    "id_number",
    "practitioner",
    "valid_credential",
]
