from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.divisions.models import Division

if TYPE_CHECKING:
    from backend.accounts.models import User


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
    # Expected patrol frequency: a segment without a valid patrol for this many days is overdue.
    patrol_every_days = models.PositiveSmallIntegerField(default=7)
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        ordering = ["river_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.river.name} · {self.name}"


class PatrolPolicy(models.Model):
    """Minimums of a valid patrol for a division and everything below it (codes nest by prefix).

    The most specific policy on the way up from a segment's division wins; without any, the
    defaults of ``backend.rivers.conf`` apply.
    """

    division = models.OneToOneField(Division, on_delete=models.PROTECT, related_name="patrol_policy")
    min_duration_s = models.PositiveIntegerField()
    min_distance_m = models.PositiveIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_duration_s__lte=24 * 3600), name="patrol_policy_duration_bound"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.division_id}: {self.min_duration_s}s / {self.min_distance_m}m"


class StewardTeam(models.Model):
    """A 河小二 team of a volunteer organisation; its members patrol the segments it is assigned."""

    organisation = models.ForeignKey(
        "volunteers.Organisation", on_delete=models.PROTECT, related_name="river_teams"
    )
    name = models.CharField(max_length=80)
    members: models.ManyToManyField[User, StewardTeamMember] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StewardTeamMember", related_name="river_teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="steward_team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class StewardTeamMember(models.Model):
    team = models.ForeignKey(StewardTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="river_team_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    # A coordinator's invitation; the volunteer is a member (patrols through the team's
    # assignments) only once they accepted it.
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="steward_team_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"


class StewardAssignment(models.Model):
    """A segment's steward: a volunteer river chief (志愿者河长) or a 河小二 team.

    The organisation is the one that records (and certifies) the service hours of the patrols.
    An assignment ends (``ended_at``) rather than being deleted, so past patrols keep their basis.
    """

    class Kind(models.TextChoices):
        RIVER_CHIEF = "river_chief", "志愿者河长"
        TEAM = "team", "河小二队伍"

    segment = models.ForeignKey(RiverSegment, on_delete=models.PROTECT, related_name="assignments")
    organisation = models.ForeignKey(
        "volunteers.Organisation", on_delete=models.PROTECT, related_name="river_assignments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="river_assignments",
    )
    team = models.ForeignKey(
        StewardTeam, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["segment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="river_chief", user__isnull=False, team__isnull=True))
                | Q(kind="team", user__isnull=True, team__isnull=False),
                name="steward_assignment_chief_or_team",
            ),
            models.UniqueConstraint(
                fields=["segment", "user"],
                condition=Q(ended_at__isnull=True, user__isnull=False),
                name="steward_assignment_one_live_chief",
            ),
            models.UniqueConstraint(
                fields=["segment", "team"],
                condition=Q(ended_at__isnull=True, team__isnull=False),
                name="steward_assignment_one_live_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.segment_id}"


class Patrol(models.Model):
    """One patrol: its track, the figures the server computed, its photos and the hours it earned."""

    class Status(models.TextChoices):
        RECORDING = "recording", "巡河中"
        FINISHED = "finished", "已结束"

    class Source(models.TextChoices):
        LIVE = "live", "实时上传"
        OFFLINE = "offline", "离线补传"

    segment = models.ForeignKey(RiverSegment, on_delete=models.PROTECT, related_name="patrols")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="river_patrols")
    assignment = models.ForeignKey(StewardAssignment, on_delete=models.PROTECT, related_name="patrols")
    organisation = models.ForeignKey(
        "volunteers.Organisation", on_delete=models.PROTECT, related_name="river_patrols"
    )
    client_id = models.CharField(max_length=64, null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LIVE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    last_point_at = models.DateTimeField(null=True, blank=True)
    # Computed at finish from the cleaned track.
    track_started_at = models.DateTimeField(null=True, blank=True)
    track_ended_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(default=0)
    distance_m = models.PositiveIntegerField(default=0)
    points_received = models.PositiveIntegerField(default=0)
    points_used = models.PositiveIntegerField(default=0)
    is_valid = models.BooleanField(null=True)
    invalid_reasons = models.JSONField(default=list, blank=True)
    policy = models.JSONField(default=dict, blank=True)  # the minimums applied, for the record
    track = models.JSONField(default=dict, blank=True)  # simplified GeoJSON LineString
    map_image = models.CharField(max_length=200, blank=True)  # storage name of the PNG
    service_record = models.OneToOneField(
        "volunteers.ServiceRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="river_patrol",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="patrol_client_id_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="recording"), name="patrol_one_recording_per_user"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"]),
            models.Index(fields=["organisation", "-id"]),
            models.Index(fields=["segment", "is_valid", "-track_ended_at"]),
            models.Index(fields=["status", "last_point_at"]),
        ]

    def __str__(self) -> str:
        return f"patrol {self.pk} on {self.segment_id}"


class PatrolPoint(models.Model):
    """One GPS fix, stored in WGS-84 (GCJ-02 fixes are converted on the way in).

    Location tracks are sensitive personal data (PIPL): points are only read to compute and draw
    the patrol, and only the patroller and the organisation's coordinators see the track.
    """

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points")
    recorded_at = models.DateTimeField()
    lat = models.FloatField()
    lon = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    datum = models.CharField(max_length=6, default="wgs84")  # as declared by the client

    class Meta:
        ordering = ["patrol_id", "recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "recorded_at"], name="patrol_point_once_per_instant"),
        ]

    def __str__(self) -> str:
        return f"{self.patrol_id}@{self.recorded_at:%H:%M:%S}"


class RiverIssue(models.Model):
    """A problem found on a river, from report to closure (or rejection)."""

    class Type(models.TextChoices):
        SEWAGE_DISCHARGE = "sewage_discharge", "偷排污水"
        GARBAGE_DUMPING = "garbage_dumping", "倾倒垃圾"
        ILLEGAL_WORKS = "illegal_works", "违法施工"
        FACILITY_DAMAGE = "facility_damage", "设施损坏"
        ILLEGAL_FISHING = "illegal_fishing", "电鱼毒鱼"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        REPORTED = "reported", "已上报"
        ACCEPTED = "accepted", "已受理"
        ASSIGNED = "assigned", "已派单"
        RESOLVED = "resolved", "已处置"
        VERIFIED = "verified", "已核实"
        CLOSED = "closed", "已办结"
        REJECTED = "rejected", "不予受理"

    OPEN_STATUSES = (Status.REPORTED, Status.ACCEPTED, Status.ASSIGNED)

    river = models.ForeignKey(River, on_delete=models.PROTECT, related_name="issues")
    segment = models.ForeignKey(RiverSegment, on_delete=models.PROTECT, related_name="issues")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="river_issues")
    patrol = models.ForeignKey(
        Patrol, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REPORTED)
    lat = models.FloatField()  # WGS-84
    lon = models.FloatField()
    description = models.TextField()
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="river_issues"
    )
    reported_at = models.DateTimeField()
    due_at = models.DateTimeField()
    overdue_at = models.DateTimeField(null=True, blank=True)  # set by the overdue job
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_river_issues",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rejected_reason = models.TextField(blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["division", "status", "-id"]),
            models.Index(fields=["river", "status", "-closed_at"]),
            models.Index(fields=["reporter", "-id"]),
            models.Index(fields=["assignee", "-id"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Flagged by the overdue job, or open past its due date already."""
        return bool(self.overdue_at) or (self.is_open and self.due_at < timezone.now())


class IssueStep(NamedTuple):
    allowed_from: tuple[str, ...]
    to: str


_S = RiverIssue.Status

#: The river-issue workflow, the one table of it: each step, the statuses it may start from and
#: the status it leads to. The services move issues along it (a conditional UPDATE on
#: ``allowed_from``); ``backend.rivers.permissions`` offers a user the steps they may take now.
#: ``verify`` and ``reopen`` are the two answers of one verification.
ISSUE_WORKFLOW: dict[str, IssueStep] = {
    "accept": IssueStep((_S.REPORTED,), _S.ACCEPTED),
    "reject": IssueStep((_S.REPORTED, _S.ACCEPTED), _S.REJECTED),
    "assign": IssueStep((_S.ACCEPTED, _S.ASSIGNED), _S.ASSIGNED),
    "resolve": IssueStep((_S.ASSIGNED,), _S.RESOLVED),
    "verify": IssueStep((_S.RESOLVED,), _S.VERIFIED),
    "reopen": IssueStep((_S.RESOLVED,), _S.ASSIGNED),
    "close": IssueStep((_S.VERIFIED,), _S.CLOSED),
}


class RiverPhoto(models.Model):
    """A photo of a patrol, an issue report or an issue's resolution, stored without metadata.

    ``gps_sealed`` keeps the position the camera wrote into the original file's EXIF (sealed
    with ``backend.core.crypto``) as evidence; the stored bytes never carry it and only
    privileged roles (the division's handlers) see it.
    """

    class Role(models.TextChoices):
        PATROL = "patrol", "巡河照片"
        REPORT = "report", "问题照片"
        RESOLUTION = "resolution", "处置照片"

    role = models.CharField(max_length=12, choices=Role.choices)
    patrol = models.ForeignKey(Patrol, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    issue = models.ForeignKey(
        RiverIssue, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    file = models.CharField(max_length=200)  # storage names
    thumbnail = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    gps_sealed = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(patrol__isnull=False, issue__isnull=True)
                | Q(patrol__isnull=True, issue__isnull=False),
                name="river_photo_of_patrol_or_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} photo {self.pk}"
