"""Community-group filing (社区社会组织备案): policies, filings, groups, annual reports, credit lists.

Nothing here is ever deleted: a roster entry or attachment is superseded, a listing is removed
by a dated removal on the same row, a group is deregistered or revoked. Rules live in
``services.py`` and ``selectors.py``; these models only hold the facts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from backend.core.textsearch import SearchTokenBase
from backend.divisions.models import Division


class Category(models.TextChoices):
    ELDERLY_CARE = "elderly_care", "养老服务"
    CULTURE_SPORTS = "culture_sports", "文体活动"
    CHARITY = "charity", "公益慈善"
    COMMUNITY_SERVICE = "community_service", "社区服务"
    VOLUNTEER_TEAM = "volunteer_team", "志愿服务队"
    OTHER = "other", "其他"


class ReviewingLevel(models.TextChoices):
    STREET = "street", "街道"
    DISTRICT = "district", "区"


class AttachmentKind(models.TextChoices):
    APPLICATION_FORM = "application_form", "备案申请表"
    MEMBER_ROSTER = "member_roster", "会员花名册"
    CHARTER = "charter", "章程"
    VENUE_PROOF = "venue_proof", "场所使用权证明"
    LEADER_ID = "leader_id", "负责人身份证明"
    GUIDING_UNIT_CONSENT = "guiding_unit_consent", "业务指导单位意见"
    OTHER = "other", "其他材料"


class WorkCalendarDay(models.Model):
    """An exception to "Monday to Friday are working days": a public holiday on a weekday
    (``is_workday=False``) or a make-up workday (调休) on a weekend (``is_workday=True``)."""

    day = models.DateField(unique=True)
    is_workday = models.BooleanField(help_text="勾选：调休上班日；不勾选：法定节假日（放假）")
    name = models.CharField(max_length=50)
    source = models.CharField(max_length=200, blank=True, help_text="依据，如国务院办公厅节假日安排通知")

    class Meta:
        ordering = ["day"]
        verbose_name = "工作日历例外"
        verbose_name_plural = "工作日历（节假日与调休）"

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.is_workday else '放假'} {self.name}"


class FilingPolicy(models.Model):
    """Filing rules of one division; empty fields inherit from the division above."""

    division = models.OneToOneField(Division, on_delete=models.PROTECT, related_name="filing_policy")
    min_founders = models.PositiveSmallIntegerField(null=True, blank=True)
    min_members = models.PositiveSmallIntegerField(null=True, blank=True)
    required_attachments = models.JSONField(
        null=True, blank=True, help_text='如 ["charter", "member_roster"]'
    )
    review_days = models.PositiveSmallIntegerField(null=True, blank=True)
    review_working_days = models.BooleanField(null=True, blank=True)
    validity_years = models.PositiveSmallIntegerField(null=True, blank=True)
    renewal_window_days = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewing_level = models.CharField(max_length=10, choices=ReviewingLevel.choices, blank=True)
    annual_report_due_month = models.PositiveSmallIntegerField(null=True, blank=True)
    annual_report_due_day = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "备案政策"
        verbose_name_plural = "备案政策"

    def __str__(self) -> str:
        return f"备案政策 {self.division_id}"


class Group(models.Model):
    """A filed community group (社区社会组织). Created when its initial filing is approved."""

    class Status(models.TextChoices):
        ACTIVE = "active", "已备案"
        EXPIRED = "expired", "备案已过期"
        DEREGISTERED = "deregistered", "已注销"
        REVOKED = "revoked", "已撤销"

    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, db_index=True)
    category = models.CharField(max_length=30, choices=Category.choices)
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="filed_groups")
    issuing_division_code = models.CharField(max_length=12)
    filing_number = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    activity_area = models.CharField(max_length=200)
    purpose = models.TextField()
    guiding_unit = models.CharField(max_length=100)
    rep_name = models.CharField(max_length=50)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="represented_groups"
    )
    party_members = models.PositiveIntegerField(default=0)
    party_org = models.BooleanField(default=False)
    party_in_charter = models.BooleanField(default=False)
    # The last approved initial/change/renewal filing: its roster is the group's roster.
    current_filing = models.ForeignKey(
        "Filing", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_changed_on = models.DateField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    filed_on = models.DateField()
    valid_until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_division_code", "filing_number"], name="group_filing_number"
            ),
        ]
        indexes = [models.Index(fields=["status", "community"])]
        verbose_name = "社区社会组织"
        verbose_name_plural = "社区社会组织"

    def __str__(self) -> str:
        return f"{self.name} ({self.filing_number})"


class GroupSearchToken(SearchTokenBase):
    """The character bigrams of a group's name and filing number, for the public directory's
    ``q`` (backend.core.textsearch); kept by the services that write those fields."""

    pk = models.CompositePrimaryKey("token", "owner")
    owner = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")


class FormerName(models.Model):
    """A name a group gave up by a change filing: blocked for others for a year (69号令)."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="former_names")
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, db_index=True)
    community_code = models.CharField(max_length=12)
    released_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.name} → {self.released_on}"


class RegisteredOrganisation(models.Model):
    """A fully registered social organisation (社会团体 etc.), kept by staff so that name checks
    also refuse names of registered, recently deregistered or revoked organisations."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记"
        DEREGISTERED = "deregistered", "已注销"
        REVOKED = "revoked", "已撤销"

    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, db_index=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    division_code = models.CharField(max_length=12)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REGISTERED)
    status_changed_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "已登记社会组织"
        verbose_name_plural = "已登记社会组织"

    def __str__(self) -> str:
        return self.name


class Filing(models.Model):
    """One application: an initial filing, or a change, renewal or deregistration of a group."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "首次备案"
        CHANGE = "change", "变更备案"
        RENEWAL = "renewal", "延续备案"
        DEREGISTRATION = "deregistration", "注销备案"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        ACCEPTED = "accepted", "已受理（审查中）"
        CORRECTION_REQUESTED = "correction_requested", "待补正"
        RESUBMITTED = "resubmitted", "已补正（审查中）"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"
        WITHDRAWN = "withdrawn", "已撤回"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="filings")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="filings")

    name = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=30, choices=Category.choices)
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="filings")
    address = models.CharField(max_length=200, blank=True)
    activity_area = models.CharField(max_length=200, blank=True)
    purpose = models.TextField(blank=True)
    guiding_unit = models.CharField(max_length=100, blank=True)
    rep_name = models.CharField(max_length=50, blank=True)
    party_members = models.PositiveIntegerField(default=0)
    party_org = models.BooleanField(default=False)
    party_in_charter = models.BooleanField(default=False)
    statement = models.TextField(blank=True, help_text="变更、注销的说明")

    # Review: fixed at submission from the policy then in force.
    reviewing_division_code = models.CharField(max_length=12, blank=True, db_index=True)
    review_days = models.PositiveSmallIntegerField(null=True, blank=True)
    review_working_days = models.BooleanField(default=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_on = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    # While a correction is pending the clock stops: the days that were left wait here.
    paused_days_left = models.SmallIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(default=list, blank=True)  # of the latest correction request or rejection
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "due_date"])]
        verbose_name = "备案申请"
        verbose_name_plural = "备案申请"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or '#' + str(self.pk)}"


class FilingPerson(models.Model):
    """A founder or member on a filing's roster (会员花名册). ID numbers are sealed."""

    class Role(models.TextChoices):
        FOUNDER = "founder", "发起人"
        MEMBER = "member", "会员"

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="persons")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=50)
    role = models.CharField(max_length=10, choices=Role.choices)
    id_number_sealed = models.TextField()
    id_index = models.CharField(max_length=64, db_index=True)
    id_masked = models.CharField(max_length=40)
    phone = models.CharField(max_length=20, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["filing_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


class FilingAttachment(models.Model):
    """A checked, re-encoded upload (photo of a document, or a PDF)."""

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=30, choices=AttachmentKind.choices)
    file = models.CharField(max_length=200)
    thumbnail = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["filing_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class FilingEvent(models.Model):
    """The history the representative and reviewer see: every transition, with reasons."""

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["filing_id", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class FilingNumberCounter(models.Model):
    """The last filing number issued by a division, bumped with a conditional UPDATE."""

    division_code = models.CharField(max_length=12, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.division_code}: {self.last}"


class AnnualReport(models.Model):
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="annual_reports")
    year = models.PositiveSmallIntegerField()
    member_count = models.PositiveIntegerField()
    activities_held = models.PositiveIntegerField()
    summary = models.TextField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["group", "year"], name="annual_report_group_year")]
        verbose_name = "年度报告"
        verbose_name_plural = "年度报告"

    def __str__(self) -> str:
        return f"{self.group_id} {self.year}"


class CreditListing(models.Model):
    """One dated entry on a credit list, with reason and legal basis; removal is dated on the row."""

    class ListKind(models.TextChoices):
        ABNORMAL = "abnormal", "活动异常名录"
        SERIOUS = "serious", "严重违法失信名单"

    class Reason(models.TextChoices):
        ANNUAL_REPORT_MISSING = "annual_report_missing", "未按规定报送年度报告"
        UNREACHABLE = "unreachable", "通过登记的住所无法取得联系"
        ABNORMAL_TWO_YEARS = "abnormal_two_years", "列入活动异常名录满2年"
        OTHER = "other", "其他"

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="credit_listings")
    list_kind = models.CharField(max_length=20, choices=ListKind.choices)
    reason_code = models.CharField(max_length=40, choices=Reason.choices)
    reason = models.TextField()
    basis = models.TextField()
    related_year = models.PositiveSmallIntegerField(null=True, blank=True)
    fix_required = models.BooleanField(default=True)
    listed_on = models.DateField()
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_listing = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fixed_on = models.DateField(null=True, blank=True)
    removal_due = models.DateField(null=True, blank=True)
    removed_on = models.DateField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_reason = models.TextField(blank=True)
    removal_basis = models.TextField(blank=True)
    # Jobs pass a key so that a second run lists nothing twice.
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group_id", "-listed_on", "-id"]
        indexes = [models.Index(fields=["list_kind", "removed_on"])]
        verbose_name = "信用名单记录"
        verbose_name_plural = "信用名单记录"

    def __str__(self) -> str:
        return f"{self.get_list_kind_display()} {self.group_id} {self.listed_on}"
