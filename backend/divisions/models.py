from __future__ import annotations

from django.db import models


class Division(models.Model):
    """A node of the administrative division tree, keyed by its statistical code.

    Codes nest by prefix: province 44 → city 4403 → district 440309 → street 440309005 →
    community 440309005001. Communities (12 digits) are added by staff under their street.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省"
        CITY = 2, "市"
        DISTRICT = 3, "区县"
        STREET = 4, "街道乡镇"
        COMMUNITY = 5, "社区村"

    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=80)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


LEVEL_BY_LENGTH = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5}


def level_for_code(code: str) -> int | None:
    return LEVEL_BY_LENGTH.get(len(code)) if code.isdigit() else None
