"""Seed data for the browser test, run inside the test server's environment (its own database)."""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import timedelta


def main(out: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    from django.utils import timezone
    from PIL import Image, ImageDraw

    from backend.core.validators import resident_id_check_char
    from backend.credentials import services

    def number(n: int) -> str:
        first17 = f"44030919850615{n:03d}"
        return first17 + resident_id_check_char(first17)

    photo = Image.new("RGB", (300, 400), (180, 200, 230))
    ImageDraw.Draw(photo).ellipse((90, 60, 210, 180), fill=(90, 70, 60))
    buf = io.BytesIO()
    photo.save(buf, "JPEG")
    association = services.association_create(actor=None, name="深圳市燃气行业协会")
    today = timezone.localdate()
    tokens = {}
    for n, (key, name) in enumerate([("valid", "张小三"), ("revoked", "李四海")], start=1):
        person = services.practitioner_create(
            actor=None,
            association=association,
            name=name,
            id_number=number(n),
            mobile="13800138000",
            employer="安心燃气",
        )
        services.practitioner_photo_set(actor=None, practitioner=person, data=buf.getvalue())
        credential = services.credential_issue(
            actor=None,
            practitioner=person,
            type="燃气安装维修",
            certificate_no=f"SZRQ-B-{n}",
            qualification="燃气燃烧器具安装维修工（四级）",
            valid_from=today - timedelta(days=10),
            valid_until=today + timedelta(days=365),
        )
        if key == "revoked":
            services.credential_revoke(actor=None, credential=credential, reason="违规操作")
        tokens[key] = credential.token
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(tokens, fh)


if __name__ == "__main__":
    main(sys.argv[1])
