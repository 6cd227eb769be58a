from __future__ import annotations

from django.db import models

from backend.divisions.models import Division


class River(models.Model):
    """A river (or canal, reservoir) patrolled by river stewards (河小二 / 志愿者河长)."""

    name = models.CharField(max_length=80)
    code = models.CharField(max_length=40, blank=True)
    divisions = models.ManyToManyField(Division, related_name="rivers", blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RiverSegment(models.Model):
    """A stretch of a river, the unit stewards are assigned to and patrol.

    ``geometry`` is a GeoJSON LineString in WGS-84 ([lon, lat] pairs); ``length_m`` is computed
    from it when the segment is saved through the rivers services.
    """

    river = models.ForeignKey(River, on_delete=models.PROTECT, related_name="segments")
    name = models.CharField(max_length=80)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="river_segments")
    geometry = models.JSONField(default=dict, blank=True)
    length_m = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["river_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.river.name} · {self.name}"
