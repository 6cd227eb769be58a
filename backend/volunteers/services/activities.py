"""Activities: creating a draft and publishing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.volunteers.errors import ActivityNotInFuture
from backend.volunteers.models import Activity, Organisation, Programme, ServicePost, Shift
from backend.volunteers.search import activity_index, activity_location
from backend.volunteers.services._common import _clean_list, _division, _now
from backend.wechat.services.security import Scene, text_check


def activity_create(
    *,
    by: User,
    organisation: Organisation,
    programme: str,
    title: str,
    division_code: str,
    description: str = "",
    post_id: int | None = None,
    river_segment_id: int | None = None,
    category: str = "",
    recipients: str = "",
    place: str = "",
    risk_level: str = Activity.Risk.LOW,
    insurance_required: bool | None = None,
    min_age: int = 0,
    required_skills: list[str] | None = None,
    hours_mode: str = Activity.HoursMode.SCANNER,
) -> Activity:
    """A draft activity of ``organisation``; the place defaults to its post's or river segment's."""
    errors = [] if programme in Programme.values else [_not_allowed_choice("programme")]
    post, river_segment, missing = _activity_links(post_id=post_id, river_segment_id=river_segment_id)
    errors += missing
    errors += programme_link_errors(
        programme=programme, has_post=post_id is not None, has_segment=river_segment_id is not None
    )
    if risk_level not in Activity.Risk.values:
        errors.append(_not_allowed_choice("risk_level"))
    if hours_mode not in Activity.HoursMode.values:
        errors.append(_not_allowed_choice("hours_mode"))
    if errors:
        raise ValidationFailed(errors=errors)
    division = _division(division_code)
    # What volunteers read when they choose an activity: WeChat's content check, before the write.
    checked = text_check(
        author=by,
        texts={"title": title, "description": description, "place": place, "recipients": recipients},
        scene=Scene.FORUM,
    )
    if not place:
        if post is not None:
            place = f"{post.name} {post.address}".strip()
        elif river_segment is not None:
            place = str(river_segment)
    with transaction.atomic():
        activity = Activity.objects.create(
            organisation=organisation,
            programme=programme,
            title=title.strip(),
            description=description,
            post=post,
            river_segment=river_segment,
            division=division,
            category=category,
            recipients=recipients,
            place=place[:200],
            risk_level=risk_level,
            # Risky activities need insurance (志愿服务条例 Art.17); the flag follows the risk unless set.
            insurance_required=(risk_level != Activity.Risk.LOW)
            if insurance_required is None
            else insurance_required,
            min_age=max(min_age, 0),
            required_skills=_clean_list(required_skills),
            hours_mode=hours_mode,
            created_by=by,
            **activity_location(post),
        )
        activity_index(activity=activity, created=True)
        checked.attach(activity)
        audit_record(actor=by, action="activity.created", target=activity, data={"title": activity.title})
    return activity


def _not_allowed_choice(field: str) -> dict[str, Any]:
    return field_error(field, "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))


def _activity_links(
    *, post_id: int | None, river_segment_id: int | None
) -> tuple[ServicePost | None, Any, list[dict[str, Any]]]:
    """The service post and river segment an activity names, and the errors for missing ones."""
    errors = []
    post = river_segment = None
    if post_id is not None:
        post = ServicePost.objects.filter(pk=post_id, is_active=True).first()
        if post is None:
            errors.append(field_error("post_id", "not_found", T("没有该服务站点。", "No such service post.")))
    if river_segment_id is not None:
        # The segment model belongs to the rivers app, which builds on this one: reach it through
        # the relation Activity declares rather than importing it.
        segment_model: Any = Activity._meta.get_field("river_segment").related_model
        river_segment = (
            segment_model._default_manager.filter(pk=river_segment_id).select_related("river").first()
        )
        if river_segment is None:
            errors.append(
                field_error("river_segment_id", "not_found", T("没有该河段。", "No such river segment."))
            )
    return post, river_segment, errors


def programme_link_errors(*, programme: str, has_post: bool, has_segment: bool) -> list[dict[str, Any]]:
    """River activities take place on a river segment and at no service post; red-vest ones on
    no river segment."""
    errors = []
    if programme == Programme.RIVER and not has_segment:
        errors.append(
            field_error(
                "river_segment_id", "required", T("巡河活动须指定河段。", "A river activity needs a segment.")
            )
        )
    if programme == Programme.RED_VEST and has_segment:
        errors.append(
            field_error(
                "river_segment_id",
                "not_allowed",
                T("红马甲活动不关联河段。", "Red-vest activities have no river segment."),
            )
        )
    if programme == Programme.RIVER and has_post:
        errors.append(
            field_error(
                "post_id",
                "not_allowed",
                T("巡河活动不关联服务站点。", "River activities have no service post."),
            )
        )
    return errors


def activity_publish(*, activity: Activity, by: User, now: datetime | None = None) -> Activity:
    """Publish a draft: it needs shifts, all of them in the future (past service is backfilled)."""
    now = _now(now)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        if activity.status != Activity.Status.DRAFT:
            raise InvalidTransition(status=activity.status)
        shifts = Shift.objects.filter(activity=activity, status=Shift.Status.OPEN)
        if not shifts.exists() or shifts.filter(starts_at__lte=now).exists():
            raise ActivityNotInFuture()
        activity.status = Activity.Status.PUBLISHED
        activity.published_at = now
        activity.save(update_fields=["status", "published_at"])
        audit_record(actor=by, action="activity.published", target=activity)
    return activity
