"""Volunteers: profiles, organisations, service posts (U站), activities, shifts, sign-ups, hours.

Contracts other domains rely on (keep the names):

- ``Signup.CONFIRMED_STATUSES``: the statuses in which a sign-up holds a place and a pass
  (``confirmed`` and, after check-out, ``attended``). ``Signup.holds_pass`` says the same per row.
- ``Shift.taken`` counts places held (confirmed + attended + promoted-awaiting-confirmation); a
  CheckConstraint keeps it ``<= capacity`` and services only raise it with a conditional UPDATE.
- ``ServiceRecord.external_ref`` is unique: the caller's idempotency key (``checkin:<scan id>``,
  ``patrol:<patrol id>``, ``attendance:<signup id>``, ``backfill:<uuid>``).
- Coordinators of an organisation hold ``Grant(role="coordinator", scope_type="organisation",
  scope_id=str(Organisation.pk))``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backend.core.textsearch import SearchTokenBase
from backend.divisions.models import Division

# Purposes of the ID number's sealing key and blind index (backend.core.crypto).
ID_PURPOSE = "volunteer.id_number"
ID_INDEX_PURPOSE = "volunteer.id_number"
# Purpose of the calendar feed token's sealing key and blind index.
CALENDAR_PURPOSE = "volunteer.calendar"


class Programme(models.TextChoices):
    RED_VEST = "red_vest", "红马甲"
    RIVER = "river", "河小二"


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class VolunteerProfile(models.Model):
    """A registered volunteer (志愿服务条例 Art.7): real name, ID number, skills, times, contact."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", "居民身份证"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    volunteer_no = models.CharField(max_length=20, unique=True, null=True, blank=True)
    real_name = models.CharField(max_length=50)
    id_type = models.CharField(max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number_sealed = models.TextField()
    id_number_index = models.CharField(max_length=64, unique=True)
    birth_date = models.DateField()
    gender = models.CharField(max_length=10, choices=Gender.choices)
    mobile = models.CharField(max_length=11)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="volunteers")
    skills = models.JSONField(default=list, blank=True)
    service_categories = models.JSONField(default=list, blank=True)
    available_times = models.JSONField(default=list, blank=True)
    # Guardian (监护人) of a minor: consent is recorded in VolunteerConsent(kind="guardian").
    guardian_name = models.CharField(max_length=50, blank=True)
    guardian_mobile = models.CharField(max_length=11, blank=True)
    guardian_relation = models.CharField(max_length=20, blank=True)
    banned_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.volunteer_no or '—'} {self.real_name}"


class VolunteerConsent(models.Model):
    """A consent given at a time for a version of a text (terms, privacy, disclosure, guardian)."""

    class Kind(models.TextChoices):
        TERMS = "terms", "服务协议"
        PRIVACY = "privacy", "个人信息处理"
        DISCLOSURE = "disclosure", "信息公开"
        GUARDIAN = "guardian", "监护人同意"

    profile = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # A guardian's consent is given by the guardian, signed in on their own phone
    # (services/guardians.py): who gave it; empty for the volunteer's own consents.
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["profile_id", "kind", "-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "kind", "version"], name="volunteer_consent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.version}"


class Organisation(models.Model):
    """志愿服务组织: owns activities, records service and issues certificates for it."""

    name = models.CharField(max_length=100)
    uscc = models.CharField(max_length=18, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="volunteer_organisations")
    contact_name = models.CharField(max_length=50, blank=True)  # 经办人 on certificates
    contact_phone = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ServicePost(models.Model):
    """A red-vest service post (U站), often at a 党群服务中心."""

    name = models.CharField(max_length=100)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="service_posts")
    address = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    host = models.CharField(max_length=100, blank=True)  # e.g. 民治街道党群服务中心
    # Self check-in (services/selfcheckin.py) is accepted within this distance of the post (WGS-84).
    geofence_radius_m = models.PositiveIntegerField(default=200)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_posts"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        CANCELLED = "cancelled", "已取消"

    class Risk(models.TextChoices):
        LOW = "low", "低"
        MEDIUM = "medium", "中"
        HIGH = "high", "高"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="activities")
    programme = models.CharField(max_length=20, choices=Programme.choices)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    post = models.ForeignKey(
        ServicePost, null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    river_segment = models.ForeignKey(
        "rivers.RiverSegment", null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="volunteer_activities")
    category = models.CharField(max_length=40, blank=True)
    recipients = models.CharField(max_length=200, blank=True)
    place = models.CharField(max_length=200, blank=True)
    risk_level = models.CharField(max_length=10, choices=Risk.choices, default=Risk.LOW)
    insurance_required = models.BooleanField(default=False)
    min_age = models.PositiveSmallIntegerField(default=0)
    required_skills = models.JSONField(default=list, blank=True)

    class HoursMode(models.TextChoices):
        SCANNER = "scanner", "仅扫码签到"
        SELF_CHECKIN = "self_checkin", "自助签到（签到即计至班次结束）"
        SELF_CHECKIN_CHECKOUT = "self_checkin_checkout", "自助签到签退"

    hours_mode = models.CharField(max_length=24, choices=HoursMode.choices, default=HoursMode.SCANNER)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    # Where it happens (WGS-84, from its post) and the grid cell that serves search by distance
    # (backend.core.geo.geocell); kept by the services with the search tokens (search.py).
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geocell = models.IntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "programme", "division"]),
            models.Index(fields=["geocell"], name="activity_geocell"),
        ]

    def __str__(self) -> str:
        return self.title


class ActivitySearchToken(SearchTokenBase):
    """The character bigrams of an activity's title and description (backend.core.textsearch)."""

    pk = models.CompositePrimaryKey("token", "owner")
    owner = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")


class ShiftSeries(models.Model):
    """A weekly rule that generates shifts: e.g. every Saturday and Sunday 9:00-12:00."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="series")
    weekdays = models.JSONField(default=list)  # 0 = Monday … 6 = Sunday
    start_time = models.TimeField()
    end_time = models.TimeField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    capacity = models.PositiveIntegerField()
    waitlist_size = models.PositiveIntegerField(default=0)
    signup_opens_days = models.PositiveSmallIntegerField(default=14)  # sign-up opens N days before
    signup_closes_hours = models.PositiveSmallIntegerField(default=0)  # … and closes N hours before
    cancel_hours = models.PositiveSmallIntegerField(default=24)  # free cancellation until N hours before
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.activity_id} weekly {self.weekdays} {self.start_time}-{self.end_time}"


class Shift(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "开放"
        CANCELLED = "cancelled", "已取消"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="shifts")
    series = models.ForeignKey(
        ShiftSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    taken = models.PositiveIntegerField(default=0)  # confirmed + attended + promoted (held)
    waitlist_size = models.PositiveIntegerField(default=0)  # 0: no waitlist
    waitlisted = models.PositiveIntegerField(default=0)
    signup_opens_at = models.DateTimeField(null=True, blank=True)
    signup_closes_at = models.DateTimeField(null=True, blank=True)
    cancel_deadline = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")), name="shift_never_overbooked"),
            models.CheckConstraint(
                condition=Q(waitlisted__lte=F("waitlist_size")), name="shift_waitlist_bounded"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.UniqueConstraint(fields=["series", "starts_at"], name="shift_series_occurrence_once"),
        ]
        indexes = [models.Index(fields=["activity", "starts_at"]), models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)


class Signup(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "已确认"
        WAITLISTED = "waitlisted", "候补"
        PROMOTED = "promoted", "候补转正待确认"
        CANCELLED = "cancelled", "已取消"
        CANCELLED_LATE = "cancelled_late", "逾期取消"
        EXPIRED = "expired", "转正未确认"
        NO_SHOW = "no_show", "缺席"
        ATTENDED = "attended", "已到岗"
        TRANSFERRED = "transferred", "已转让"

    CONFIRMED_STATUSES = frozenset({Status.CONFIRMED, Status.ATTENDED})
    HOLDING_STATUSES = frozenset({Status.CONFIRMED, Status.ATTENDED, Status.PROMOTED})
    ACTIVE_STATUSES = frozenset(
        {Status.CONFIRMED, Status.ATTENDED, Status.PROMOTED, Status.WAITLISTED, Status.NO_SHOW}
    )

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_signups"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    confirm_by = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    attended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "user"],
                condition=Q(status__in=["confirmed", "attended", "promoted", "waitlisted", "no_show"]),
                name="signup_once_per_shift",
            ),
        ]
        indexes = [
            models.Index(fields=["shift", "status", "id"]),
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "confirm_by"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.shift_id}:{self.status}"

    @property
    def holds_pass(self) -> bool:
        return self.status in self.CONFIRMED_STATUSES


class ServiceRecord(models.Model):
    """One piece of service (志愿服务记录办法): activity, date, place, recipients, content, hours…"""

    class Source(models.TextChoices):
        CHECKIN = "checkin", "签到签退"
        PATROL = "patrol", "巡河"
        COORDINATOR = "coordinator", "协调员记录考勤"
        BACKFILL = "backfill", "补录"

    class Kind(models.TextChoices):
        RECORDED = "recorded", "信用时数"
        BACKFILLED = "backfilled", "补录时数"

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        PENDING = "pending", "待组织审核"
        ESCALATED = "escalated", "待上级审核"
        REJECTED = "rejected", "未通过"
        REFUSED = "refused", "超出每日签到次数"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_records"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="service_records")
    source = models.CharField(max_length=12, choices=Source.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    status_reason = models.CharField(max_length=60, blank=True)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_records"
    )
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_records"
    )
    signup = models.ForeignKey(
        Signup, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_records"
    )
    service_date = models.DateField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True)
    content = models.TextField(blank=True)
    recipients = models.CharField(max_length=200, blank=True)
    minutes = models.PositiveIntegerField(default=0)  # counted minutes before rounding
    hours = models.DecimalField(max_digits=6, decimal_places=1, default=Decimal("0"))
    evaluation = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    external_ref = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")), name="service_record_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(hours__gte=0), name="service_record_hours_positive"),
        ]
        indexes = [
            models.Index(fields=["user", "service_date"]),
            models.Index(fields=["organisation", "status", "-id"]),
            models.Index(fields=["user", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.service_date} {self.hours}h {self.status}"


class Certificate(models.Model):
    """A service certificate (志愿服务证明), issued by the organisation that recorded the service."""

    number = models.CharField(max_length=30, unique=True)
    verify_code = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer_certificates"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="certificates")
    hours = models.DecimalField(max_digits=8, decimal_places=1)
    recorded_hours = models.DecimalField(max_digits=8, decimal_places=1)
    backfilled_hours = models.DecimalField(max_digits=8, decimal_places=1)
    content = models.TextField(blank=True)
    handler = models.CharField(max_length=50, blank=True)  # 经办人
    holder_name_masked = models.CharField(max_length=50)
    volunteer_no = models.CharField(max_length=20)
    id_type = models.CharField(max_length=20, blank=True)  # 证件类型 as printed
    id_number_masked = models.CharField(max_length=30, blank=True)
    # The signed proof (志愿服务记录证明) the QR carries: backend.volunteers.proofs.
    proof_token = models.TextField(blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["user", "organisation", "-issued_at"])]

    def __str__(self) -> str:
        return self.number


class VolunteerTeam(models.Model):
    """A team (志愿服务队) a volunteer leads: its leader signs members up for a shift together.
    A member is in the team only once they accepted the leader's invitation."""

    name = models.CharField(max_length=50)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="led_teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class VolunteerTeamMember(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "已邀请"
        ACTIVE = "active", "已加入"
        DECLINED = "declined", "已拒绝"
        LEFT = "left", "已退出"

    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team_id", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="volunteer_team_member_once")]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.team_id}:{self.status}"


class SignupTransfer(models.Model):
    """A volunteer offers their confirmed place to a named volunteer, who accepts before
    ``expires_at`` (services/transfers.py); the place moves in one transaction."""

    class Status(models.TextChoices):
        OFFERED = "offered", "待接受"
        ACCEPTED = "accepted", "已接受"
        DECLINED = "declined", "已拒绝"
        WITHDRAWN = "withdrawn", "已撤回"
        EXPIRED = "expired", "已过期"

    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="transfers")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    new_signup = models.ForeignKey(Signup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["signup"], condition=Q(status="offered"), name="signup_transfer_one_open_offer"
            ),
        ]
        indexes = [models.Index(fields=["to_user", "status"]), models.Index(fields=["from_user", "status"])]

    def __str__(self) -> str:
        return f"{self.signup_id}: {self.from_user_id}->{self.to_user_id} {self.status}"


class SelfCheckin(models.Model):
    """Every self check-in attempt (append-only, as the scanner's scans): the volunteer scanned the
    post's rotating QR and sent their location. ``result`` is ``ok`` or the refusal's code."""

    class Kind(models.TextChoices):
        IN = "in", "签到"
        OUT = "out", "签退"

    signup = models.ForeignKey(
        Signup, null=True, blank=True, on_delete=models.SET_NULL, related_name="self_checkins"
    )
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="self_checkins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    result = models.CharField(max_length=30)
    at = models.DateTimeField()
    latitude = models.DecimalField(max_digits=9, decimal_places=6)  # WGS-84
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    record = models.ForeignKey(
        ServiceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="self_checkins"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["shift", "user", "kind", "result"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.shift_id} {self.kind} {self.result}"


class CalendarFeed(models.Model):
    """A volunteer's private calendar address (``/cal/<token>.ics``): the token sealed (so the
    app can show the address again) and found by its keyed hash. A new token replaces the row's,
    so the old address stops answering at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_calendar"
    )
    token_sealed = models.TextField()
    token_index = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"


class IdNumberCorrection(models.Model):
    """A registered volunteer's request to correct their ID number (a typo at registration, a new
    card number). The number on the profile changes only when staff who checked the person's card
    confirm it; every request stays as history (both numbers sealed), and service records, which
    belong to the account, are untouched."""

    class Status(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "已确认"
        REJECTED = "rejected", "已驳回"

    profile = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="id_corrections")
    old_number_sealed = models.TextField()
    new_number_sealed = models.TextField()
    new_number_index = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile"], condition=Q(status="pending"), name="id_correction_one_pending"
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self) -> str:
        return f"{self.profile_id}:{self.status}"
