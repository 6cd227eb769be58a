"""Seed data for the tests against a real daphne, run inside the server's environment (its own
database): ``main`` for the browser test, ``statuses`` for the fast-path comparison."""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import timedelta

BROWSER_BADGES = {"valid": "张小三", "revoked": "李四海"}
STATUS_BADGES = {
    "valid": "王一明",
    "expired": "王二明",
    "suspended": "王三明",
    "revoked": "王四明",
    "blacklisted": "王五明",
}


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (300, 400), (180, 200, 230))
    ImageDraw.Draw(photo).ellipse((90, 60, 210, 180), fill=(90, 70, 60))
    buf = io.BytesIO()
    photo.save(buf, "JPEG")
    return buf.getvalue()


def seed(out: str, badges: dict[str, str], *, photos: bool) -> None:
    """One practitioner and badge per entry of ``badges`` (status → name), brought into that
    status through the services; the tokens go to ``out`` as JSON (status → token)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    from django.utils import timezone

    from backend.core.validators import resident_id_check_char
    from backend.credentials import services

    photo = _photo() if photos else None
    association = services.association_create(actor=None, name="深圳市燃气行业协会")
    today = timezone.localdate()
    tokens = {}
    for n, (status, name) in enumerate(badges.items(), start=1):
        first17 = f"44030919850615{n:03d}"
        person = services.practitioner_create(
            actor=None,
            association=association,
            name=name,
            id_number=first17 + resident_id_check_char(first17),
            mobile="13800138000",
            employer="安心燃气",
        )
        if photo:
            services.practitioner_photo_set(actor=None, practitioner=person, data=photo)
        expired = status == "expired"
        credential = services.credential_issue(
            actor=None,
            practitioner=person,
            type="燃气安装维修",
            certificate_no=f"SZRQ-B-{n}",
            qualification="燃气燃烧器具安装维修工（四级）",
            valid_from=today - timedelta(days=400 if expired else 10),
            valid_until=today + timedelta(days=-1 if expired else 365),
        )
        if status == "suspended":
            services.credential_suspend(actor=None, credential=credential, reason="投诉调查中")
        elif status == "revoked":
            services.credential_revoke(actor=None, credential=credential, reason="违规操作")
        elif status == "blacklisted":
            services.practitioner_blacklist(
                actor=None, practitioner=person, listed_on=today, reason="违规", basis="协会章程"
            )
        tokens[status] = credential.token
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(tokens, fh)


def main(out: str) -> None:
    seed(out, BROWSER_BADGES, photos=True)


def statuses(out: str) -> None:
    seed(out, STATUS_BADGES, photos=True)


if __name__ == "__main__":
    main(sys.argv[1])
