"""Writes of the filings domain. Each service owns its transaction, audits, and notifies.

The filing state machine (``TRANSITIONS``) is enforced by a conditional UPDATE on status and
version: of two reviewers deciding at once exactly one row update succeeds; the other gets 409
(``invalid_transition`` when the filing has moved on, ``filing_changed`` when it was edited).
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import media
from backend.accounts.models import Role, ScopeType, User
from backend.accounts.services import grant_role
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, normalize_for_index, seal
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.masking import mask_id_number
from backend.core.validators import InvalidPhone, normalize_mainland_mobile
from backend.divisions.models import Division
from backend.filings import calendar, conf
from backend.filings.errors import (
    MEDIA_ERRORS,
    AnnualReportExists,
    FilingChanged,
    FilingIncomplete,
    FilingInProgress,
    InvalidDivision,
    ListingAlreadyRemoved,
    NameNotAcceptable,
    OrgNotActive,
    RenewalNotOpen,
)
from backend.filings.models import (
    AnnualReport,
    AttachmentKind,
    CreditListing,
    Filing,
    FilingAttachment,
    FilingEvent,
    FilingNumberCounter,
    FilingPerson,
    FilingPolicy,
    FormerName,
    Group,
)
from backend.filings.selectors import (
    ID_PURPOSE,
    add_years,
    filing_check,
    filing_persons,
    filing_policy_effective,
    group_open_filing,
    name_check,
    name_key,
    reviewers_for,
    today_local,
)
from backend.notifications.services import notify

S = Filing.Status
EDITABLE = (S.DRAFT, S.CORRECTION_REQUESTED)

# action -> {from status: to status}; submit from correction_requested goes to "resubmitted"
# when the clock had started (accepted before), else back to "submitted".
TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {S.DRAFT: S.SUBMITTED, S.CORRECTION_REQUESTED: S.RESUBMITTED},
    "accept": {S.SUBMITTED: S.ACCEPTED},
    "request_correction": {
        S.SUBMITTED: S.CORRECTION_REQUESTED,
        S.ACCEPTED: S.CORRECTION_REQUESTED,
        S.RESUBMITTED: S.CORRECTION_REQUESTED,
    },
    "approve": {S.ACCEPTED: S.APPROVED, S.RESUBMITTED: S.APPROVED},
    "reject": {S.SUBMITTED: S.REJECTED, S.ACCEPTED: S.REJECTED, S.RESUBMITTED: S.REJECTED},
    "withdraw": {
        S.DRAFT: S.WITHDRAWN,
        S.SUBMITTED: S.WITHDRAWN,
        S.ACCEPTED: S.WITHDRAWN,
        S.CORRECTION_REQUESTED: S.WITHDRAWN,
        S.RESUBMITTED: S.WITHDRAWN,
    },
}

FILING_FIELDS = (
    "name",
    "category",
    "address",
    "activity_area",
    "purpose",
    "guiding_unit",
    "rep_name",
    "party_members",
    "party_org",
    "party_in_charter",
    "statement",
)
GROUP_FIELDS = (
    "name",
    "category",
    "address",
    "activity_area",
    "purpose",
    "guiding_unit",
    "rep_name",
    "party_members",
    "party_org",
    "party_in_charter",
)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _reasons_text(reasons: list[dict[str, str]]) -> str:
    return "；".join(r["reason"] for r in reasons)


def _record(
    *,
    filing: Filing,
    actor: User | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    reasons: list[dict[str, str]] | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """The history row the parties see, and the audit row, for one change of a filing."""
    FilingEvent.objects.create(
        filing=filing,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reasons=reasons or [],
        note=note,
    )
    audit_record(
        actor=actor,
        action=f"filing.{action}",
        target=filing,
        data={"from": from_status, "to": to_status, "reasons": reasons or [], **(data or {})},
        reason=_reasons_text(reasons or []) or note,
    )


def _community(code: str) -> Division:
    division = Division.objects.filter(code=code, level=Division.Level.COMMUNITY).first()
    if division is None:
        raise InvalidDivision(
            errors=[
                field_error(
                    "community", "invalid_division", T("请选择有效的社区。", "Choose a valid community.")
                )
            ]
        )
    return division


def _community_for(filing: Filing, code: str) -> Division:
    """The community a filing may move to: any while it is a first draft; once a reviewing office
    is fixed (at submission) or the group has an issuing office, one inside that office's area, so
    the office that reviews, numbers and later supervises the group stays the one it lies in."""
    community = _community(code)
    offices = [filing.reviewing_division_code, filing.group.issuing_division_code if filing.group else ""]
    office = next((o for o in offices if o and not community.code.startswith(o)), None)
    if community.code != filing.community_id and office is not None:
        raise ValidationFailed(
            errors=[
                field_error(
                    "community",
                    "community_outside_jurisdiction",
                    T(
                        "新社区须在原审核机关辖区内；迁往其他辖区请撤回申请（已备案组织请注销）后在新辖区重新备案。",
                        "The new community must lie in the reviewing office's area; to move elsewhere, "
                        "withdraw (or deregister a filed group) and file there.",
                    ),
                    jurisdiction=office,
                )
            ]
        )
    return community


def _clean_persons(persons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roster entries as stored: ID numbers sealed with a blind index; checked at submission."""
    rows = []
    for index, person in enumerate(persons):
        number = normalize_for_index(str(person["id_number"]))
        phone = str(person.get("phone") or "").strip()
        with contextlib.suppress(InvalidPhone):  # kept as typed; submission reports invalid_phone
            phone = normalize_mainland_mobile(phone) if phone else ""
        rows.append(
            {
                "position": index,
                "name": str(person["name"]).strip(),
                "role": person["role"],
                "id_number_sealed": seal(number, purpose=ID_PURPOSE),
                "id_index": blind_index(number, purpose=ID_PURPOSE),
                "id_masked": mask_id_number(number),
                "phone": phone,
            }
        )
    return rows


def _replace_persons(*, filing: Filing, persons: list[dict[str, Any]]) -> None:
    now = timezone.now()
    FilingPerson.objects.filter(filing=filing, superseded_at__isnull=True).update(superseded_at=now)
    FilingPerson.objects.bulk_create(FilingPerson(filing=filing, **row) for row in _clean_persons(persons))


def _bump(
    *, filing: Filing, allowed: tuple[str, ...], action: str, fields: dict[str, Any] | None = None
) -> None:
    """Change an editable filing only if it is still in an allowed status (conditional UPDATE)."""
    updated = Filing.objects.filter(pk=filing.pk, status__in=allowed).update(
        version=F("version") + 1, updated_at=timezone.now(), **(fields or {})
    )
    if not updated:
        current = Filing.objects.values_list("status", flat=True).get(pk=filing.pk)
        raise InvalidTransition(action=action, status=current)
    filing.refresh_from_db()


def _transition(
    *,
    filing: Filing,
    action: str,
    actor: User | None,
    expected_version: int | None = None,
    target: str | None = None,
    fields: dict[str, Any] | None = None,
    reasons: list[dict[str, str]] | None = None,
    note: str = "",
) -> str:
    """Move ``filing`` along the state machine; returns the status it came from."""
    allowed = TRANSITIONS[action]
    current = filing.status
    if current not in allowed:
        raise InvalidTransition(action=action, status=current)
    target = target or allowed[current]
    version = filing.version if expected_version is None else expected_version
    updated = Filing.objects.filter(pk=filing.pk, status=current, version=version).update(
        status=target, version=F("version") + 1, updated_at=timezone.now(), **(fields or {})
    )
    if not updated:
        fresh = Filing.objects.values_list("status", "version").get(pk=filing.pk)
        if fresh[0] not in allowed:
            raise InvalidTransition(action=action, status=fresh[0])
        raise FilingChanged(version=fresh[1])
    filing.refresh_from_db()
    _record(
        filing=filing,
        actor=actor,
        action=action,
        from_status=current,
        to_status=target,
        reasons=reasons,
        note=note,
    )
    return current


def _check_reasons(reasons: list[dict[str, str]] | None, *, per_field: bool) -> list[dict[str, str]]:
    cleaned = []
    for item in reasons or []:
        reason = str(item.get("reason") or "").strip()
        field = str(item.get("field") or "").strip()
        if reason and (field or not per_field):
            cleaned.append({"field": field, "reason": reason})
    if not cleaned:
        message = (
            T("请逐项写明需要补正的内容。", "Give a reason for each field to correct.")
            if per_field
            else T("请写明理由。", "Give the reasons.")
        )
        raise ValidationFailed(errors=[field_error("reasons", "reasons_required", message)])
    return cleaned


def _params(filing: Filing, **extra: Any) -> dict[str, Any]:
    return {"group_name": filing.name, "kind_label": filing.get_kind_display(), **extra}


# --- the representative's side -----------------------------------------------------------------


def filing_create(*, actor: User, data: dict[str, Any]) -> Filing:
    """A new draft of an initial filing; only fields are checked here, the rest at submission."""
    community = _community(data["community"])
    with transaction.atomic():
        filing = Filing.objects.create(
            kind=Filing.Kind.INITIAL,
            rep=actor,
            community=community,
            **{name: data[name] for name in FILING_FIELDS if name in data},
        )
        if data.get("persons"):
            _replace_persons(filing=filing, persons=data["persons"])
        _record(filing=filing, actor=actor, action="created", to_status=S.DRAFT)
    return filing


def filing_update(*, filing: Filing, actor: User, data: dict[str, Any]) -> Filing:
    """Change a draft, or a filing waiting for corrections. ``persons`` replaces the roster."""
    fields = {name: data[name] for name in FILING_FIELDS if name in data}
    if filing.kind == Filing.Kind.DEREGISTRATION:
        fields = {k: v for k, v in fields.items() if k == "statement"}
    if "community" in data and filing.kind != Filing.Kind.DEREGISTRATION:
        fields["community"] = _community_for(filing, data["community"])
    with transaction.atomic():
        _bump(filing=filing, allowed=EDITABLE, action="update", fields=fields)
        if "persons" in data and data["persons"] is not None and filing.kind != Filing.Kind.DEREGISTRATION:
            _replace_persons(filing=filing, persons=data["persons"])
        changed = sorted([*fields, *(["persons"] if "persons" in data else [])])
        _record(
            filing=filing, actor=actor, action="updated", note=", ".join(changed), data={"fields": changed}
        )
    return filing


def filing_attachment_add(
    *, filing: Filing, actor: User, kind: str, content: bytes, filename: str = ""
) -> FilingAttachment:
    """Check and clean an upload through the media pipeline, store it, attach it."""
    if kind not in AttachmentKind.values:
        raise ValidationFailed(
            errors=[field_error("kind", "invalid_choice", T("不是允许的材料类型。", "Unknown kind."))]
        )
    if filing.status not in EDITABLE:
        raise InvalidTransition(action="attach", status=filing.status)
    try:
        processed = media.process_upload(
            content,
            allow_pdf=True,
            max_bytes=conf.attachment_max_bytes(),
            max_pixels=conf.attachment_max_pixels(),
        )
    except media.MediaError as exc:
        error_cls = MEDIA_ERRORS.get(exc.code, MEDIA_ERRORS["corrupt_file"])
        raise error_cls(**exc.details) from exc
    stem = f"filings/{filing.pk}/{secrets.token_hex(16)}"
    stored: list[str] = []
    try:
        stored.append(default_storage.save(f"{stem}.{processed.ext}", ContentFile(processed.content)))
        if processed.thumbnail:
            stored.append(
                default_storage.save(f"{stem}_thumb.{processed.ext}", ContentFile(processed.thumbnail))
            )
        with transaction.atomic():
            _bump(filing=filing, allowed=EDITABLE, action="attach")
            attachment = FilingAttachment.objects.create(
                filing=filing,
                kind=kind,
                file=stored[0],
                thumbnail=stored[1] if len(stored) > 1 else "",
                content_type=processed.content_type,
                size=len(processed.content),
                sha256=processed.sha256,
                width=getattr(processed, "width", None),
                height=getattr(processed, "height", None),
                original_name=(filename or "")[:200],
                uploaded_by=actor,
            )
            _record(
                filing=filing,
                actor=actor,
                action="attachment_added",
                note=kind,
                data={"attachment": attachment.pk, "kind": kind, "sha256": processed.sha256},
            )
    except BaseException:
        # No row names these files: a filing that moved on meanwhile keeps no stray uploads.
        for name in stored:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
        raise
    return attachment


def filing_attachment_remove(*, filing: Filing, actor: User, attachment_id: int) -> None:
    with transaction.atomic():
        _bump(filing=filing, allowed=EDITABLE, action="detach")
        removed = FilingAttachment.objects.filter(
            pk=attachment_id, filing=filing, superseded_at__isnull=True
        ).update(superseded_at=timezone.now())
        if not removed:
            from backend.core.errors import NotFound

            raise NotFound()
        _record(filing=filing, actor=actor, action="attachment_removed", data={"attachment": attachment_id})


def filing_submit(*, filing: Filing, actor: User, today: date | None = None) -> Filing:
    """Check everything; 422 lists every problem. Fixes the reviewing division and time limit."""
    today = today or today_local()
    if filing.status not in TRANSITIONS["submit"]:
        raise InvalidTransition(action="submit", status=filing.status)
    errors = filing_check(filing=filing, today=today)
    if errors:
        raise FilingIncomplete(errors=errors)
    policy = filing_policy_effective(division_code=filing.community_id)
    fields: dict[str, Any] = {"submitted_at": timezone.now(), "reasons": []}
    target = S.SUBMITTED
    if filing.status == S.DRAFT:
        fields.update(
            reviewing_division_code=policy.reviewing_division_code(),
            review_days=policy.review_days,
            review_working_days=policy.review_working_days,
        )
    elif filing.accepted_on is not None:
        # The clock resumes with the days that were left when the correction was requested.
        target = S.RESUBMITTED
        left = max(filing.paused_days_left or 0, 1)
        fields.update(
            due_date=calendar.add_days(today, left, working=filing.review_working_days), paused_days_left=None
        )
    with transaction.atomic():
        _transition(filing=filing, action="submit", actor=actor, target=target, fields=fields)
        kind = "filing.resubmitted" if target == S.RESUBMITTED else "filing.submitted"
        for reviewer in reviewers_for(filing.reviewing_division_code):
            notify(
                user=reviewer,
                kind=kind,
                params=_params(filing, due_date=_iso(filing.due_date)),
                target=filing,
            )
    return filing


def filing_withdraw(*, filing: Filing, actor: User, note: str = "") -> Filing:
    with transaction.atomic():
        _transition(filing=filing, action="withdraw", actor=actor, note=note)
    return filing


# --- the reviewer's side ----------------------------------------------------------------------


def _decide(
    *,
    filing: Filing,
    action: str,
    actor: User,
    expected_version: int | None,
    fields: dict[str, Any],
    kind: str,
    params: dict[str, Any],
    reasons: list[dict[str, str]] | None = None,
) -> Filing:
    """A reviewer's step on the state machine, and the representative's notice of it, at once."""
    with transaction.atomic():
        _transition(
            filing=filing,
            action=action,
            actor=actor,
            expected_version=expected_version,
            fields=fields,
            reasons=reasons,
        )
        notify(user=filing.rep, kind=kind, params=_params(filing, **params), target=filing)
    return filing


def filing_accept(
    *, filing: Filing, actor: User, expected_version: int | None = None, today: date | None = None
) -> Filing:
    """受理: the materials are complete; the review clock starts today."""
    today = today or today_local()
    due = calendar.add_days(today, filing.review_days or 0, working=filing.review_working_days)
    return _decide(
        filing=filing,
        action="accept",
        actor=actor,
        expected_version=expected_version,
        fields={"accepted_on": today, "due_date": due},
        kind="filing.accepted",
        params={"due_date": _iso(due)},
    )


def filing_request_correction(
    *,
    filing: Filing,
    actor: User,
    reasons: list[dict[str, str]],
    expected_version: int | None = None,
    today: date | None = None,
) -> Filing:
    """一次性告知: every field to correct with its reason. The clock (if started) pauses."""
    today = today or today_local()
    reasons = _check_reasons(reasons, per_field=True)
    fields: dict[str, Any] = {"reasons": reasons}
    if filing.due_date is not None and filing.status in (S.ACCEPTED, S.RESUBMITTED):
        fields["paused_days_left"] = calendar.days_between(
            today, filing.due_date, working=filing.review_working_days
        )
        fields["due_date"] = None
    return _decide(
        filing=filing,
        action="request_correction",
        actor=actor,
        expected_version=expected_version,
        fields=fields,
        reasons=reasons,
        kind="filing.correction_requested",
        params={"reasons": _reasons_text(reasons)},
    )


def filing_reject(
    *,
    filing: Filing,
    actor: User,
    reasons: list[dict[str, str]],
    expected_version: int | None = None,
) -> Filing:
    """Refusal in writing with reasons."""
    reasons = _check_reasons(reasons, per_field=False)
    return _decide(
        filing=filing,
        action="reject",
        actor=actor,
        expected_version=expected_version,
        fields={"reasons": reasons, "decided_at": timezone.now(), "decided_by": actor},
        reasons=reasons,
        kind="filing.rejected",
        params={"reasons": _reasons_text(reasons)},
    )


def filing_approve(
    *,
    filing: Filing,
    actor: User,
    expected_version: int | None = None,
    note: str = "",
    today: date | None = None,
) -> Filing:
    """Approve; an initial filing becomes a group with a filing number and a valid-until date."""
    today = today or today_local()
    with transaction.atomic():
        _transition(
            filing=filing,
            action="approve",
            actor=actor,
            expected_version=expected_version,
            fields={"decided_at": timezone.now(), "decided_by": actor, "reasons": []},
            note=note,
        )
        if filing.kind != Filing.Kind.DEREGISTRATION:
            problems = name_check(
                name=filing.name,
                division_code=filing.community_id,
                exclude_group_id=filing.group_id,
                today=today,
            )
            if problems:
                raise NameNotAcceptable(reasons=[p.as_dict() for p in problems])
        policy = filing_policy_effective(division_code=filing.community_id)
        appliers: dict[str, Any] = {
            Filing.Kind.INITIAL: _approve_initial,
            Filing.Kind.CHANGE: _approve_change,
            Filing.Kind.RENEWAL: _approve_renewal,
            Filing.Kind.DEREGISTRATION: _approve_deregistration,
        }
        apply = appliers[filing.kind]
        group = apply(filing=filing, actor=actor, today=today, validity_years=policy.validity_years)
        audit_record(
            actor=actor,
            action=f"group.{filing.kind}_approved",
            target=group,
            data={
                "filing": filing.pk,
                "filing_number": group.filing_number,
                "valid_until": _iso(group.valid_until),
            },
        )
        notify(
            user=filing.rep,
            kind="filing.approved",
            params=_params(filing, filing_number=group.filing_number, valid_until=_iso(group.valid_until)),
            target=filing,
        )
    return filing


def _next_filing_number(*, division_code: str, year: int) -> str:
    if not FilingNumberCounter.objects.filter(pk=division_code).exists():
        try:
            with transaction.atomic():
                FilingNumberCounter.objects.create(division_code=division_code, last=0)
        except IntegrityError:
            pass
    FilingNumberCounter.objects.filter(pk=division_code).update(last=F("last") + 1)
    last = FilingNumberCounter.objects.values_list("last", flat=True).get(pk=division_code)
    return f"{division_code}-{year}-{last:05d}"


def _locked_group(filing: Filing, *statuses: str) -> Group:
    assert filing.group_id is not None
    group = Group.objects.select_for_update().get(pk=filing.group_id)
    if group.status not in statuses:
        raise OrgNotActive(status=group.status)
    return group


def _approve_initial(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    number = _next_filing_number(division_code=filing.reviewing_division_code, year=today.year)
    group = Group.objects.create(
        **{name: getattr(filing, name) for name in GROUP_FIELDS},
        name_key=name_key(filing.name),
        community_id=filing.community_id,
        issuing_division_code=filing.reviewing_division_code,
        filing_number=number,
        rep=filing.rep,
        current_filing=filing,
        status=Group.Status.ACTIVE,
        status_changed_on=today,
        filed_on=today,
        valid_until=add_years(today, validity_years) - timedelta(days=1),
    )
    Filing.objects.filter(pk=filing.pk).update(group=group)
    filing.group = group
    grant_role(
        user=filing.rep, role=Role.GROUP_REP, scope_type=ScopeType.GROUP, scope_id=str(group.pk), by=actor
    )
    return group


def _apply_to_group(*, filing: Filing, today: date) -> Group:
    """Copy an approved change or renewal filing onto its group. Both may rename the group (a
    renewal's draft is editable like a change's), so both block the name given up for a year."""
    group = _locked_group(filing, Group.Status.ACTIVE)
    if name_key(filing.name) != group.name_key:
        FormerName.objects.create(
            group=group,
            name=group.name,
            name_key=group.name_key,
            community_code=group.community_id,
            released_on=today,
        )
    for name in GROUP_FIELDS:
        setattr(group, name, getattr(filing, name))
    group.name_key = name_key(filing.name)
    group.community_id = filing.community_id
    group.current_filing = filing
    group.version += 1
    return group


def _approve_change(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _apply_to_group(filing=filing, today=today)
    group.save()
    return group


def _approve_renewal(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _apply_to_group(filing=filing, today=today)
    group.valid_until = add_years(group.valid_until, validity_years)
    group.save()
    return group


def _approve_deregistration(*, filing: Filing, actor: User, today: date, validity_years: int) -> Group:
    group = _locked_group(filing, Group.Status.ACTIVE, Group.Status.EXPIRED)
    group.status = Group.Status.DEREGISTERED
    group.status_changed_on = today
    group.status_reason = filing.statement
    group.version += 1
    group.save()
    return group


# --- after approval --------------------------------------------------------------------------


def group_filing_create(
    *, group: Group, actor: User, kind: str, statement: str = "", today: date | None = None
) -> Filing:
    """A change, renewal or deregistration filing of a group: a draft copied from the group,
    reviewed like the first one."""
    today = today or today_local()
    if kind not in (Filing.Kind.CHANGE, Filing.Kind.RENEWAL, Filing.Kind.DEREGISTRATION):
        raise ValidationFailed(
            errors=[field_error("kind", "invalid_choice", T("不是允许的选项。", "Not allowed."))]
        )
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        allowed = (
            (Group.Status.ACTIVE, Group.Status.EXPIRED)
            if kind == Filing.Kind.DEREGISTRATION
            else (Group.Status.ACTIVE,)
        )
        if group.status not in allowed:
            raise OrgNotActive(status=group.status)
        if kind == Filing.Kind.RENEWAL:
            policy = filing_policy_effective(division_code=group.community_id)
            opens = group.valid_until - timedelta(days=policy.renewal_window_days)
            if not opens <= today <= group.valid_until:
                raise RenewalNotOpen(opens_on=_iso(opens), valid_until=_iso(group.valid_until))
        if group_open_filing(group) is not None:
            raise FilingInProgress()
        filing = Filing.objects.create(
            kind=kind,
            rep=actor,
            group=group,
            community_id=group.community_id,
            statement=statement,
            **{name: getattr(group, name) for name in GROUP_FIELDS},
        )
        source = group.current_filing
        if kind != Filing.Kind.DEREGISTRATION and source is not None:
            FilingPerson.objects.bulk_create(
                FilingPerson(
                    filing=filing,
                    position=p.position,
                    name=p.name,
                    role=p.role,
                    id_number_sealed=p.id_number_sealed,
                    id_index=p.id_index,
                    id_masked=p.id_masked,
                    phone=p.phone,
                )
                for p in filing_persons(source)
            )
            FilingAttachment.objects.bulk_create(
                FilingAttachment(
                    filing=filing,
                    kind=a.kind,
                    file=a.file,
                    thumbnail=a.thumbnail,
                    content_type=a.content_type,
                    size=a.size,
                    sha256=a.sha256,
                    width=a.width,
                    height=a.height,
                    original_name=a.original_name,
                    uploaded_by=a.uploaded_by,
                )
                for a in source.attachments.filter(superseded_at__isnull=True)
            )
        _record(
            filing=filing,
            actor=actor,
            action="created",
            to_status=S.DRAFT,
            note=kind,
            data={"group": group.pk},
        )
    return filing


def group_revoke(
    *, group: Group, actor: User, reasons: list[dict[str, str]], today: date | None = None
) -> Group:
    """撤销 by the reviewer, with reasons; the name stays blocked for 3 years."""
    today = today or today_local()
    reasons = _check_reasons(reasons, per_field=False)
    with transaction.atomic():
        updated = Group.objects.filter(
            pk=group.pk, status__in=(Group.Status.ACTIVE, Group.Status.EXPIRED)
        ).update(
            status=Group.Status.REVOKED,
            status_changed_on=today,
            status_reason=_reasons_text(reasons),
            version=F("version") + 1,
        )
        if not updated:
            raise InvalidTransition(
                action="revoke", status=Group.objects.values_list("status", flat=True).get(pk=group.pk)
            )
        group.refresh_from_db()
        # Open filings of a revoked group end with it.
        for filing in group.filings.filter(status__in=TRANSITIONS["withdraw"].keys()):
            _transition(filing=filing, action="withdraw", actor=actor, note="组织备案已撤销")
        audit_record(
            actor=actor,
            action="group.revoked",
            target=group,
            data={"reasons": reasons},
            reason=_reasons_text(reasons),
        )
        notify(
            user=group.rep,
            kind="org.revoked",
            params={"group_name": group.name, "reasons": _reasons_text(reasons)},
            target=group,
        )
    return group


def group_expire(*, group: Group, today: date) -> bool:
    """The sweep marks groups past their valid-until date as expired (renewal came too late)."""
    with transaction.atomic():
        updated = Group.objects.filter(pk=group.pk, status=Group.Status.ACTIVE, valid_until__lt=today).update(
            status=Group.Status.EXPIRED, status_changed_on=today, version=F("version") + 1
        )
        if updated:
            audit_record(
                actor=None,
                action="group.expired",
                target=group,
                data={"valid_until": _iso(group.valid_until)},
            )
            notify(
                user=group.rep,
                kind="org.expired",
                params={"group_name": group.name, "valid_until": _iso(group.valid_until)},
                target=group,
                dedupe_key=f"org.expired:{group.pk}:{_iso(group.valid_until)}",
            )
    return bool(updated)


def annual_report_submit(
    *,
    group: Group,
    actor: User,
    year: int,
    member_count: int,
    activities_held: int,
    summary: str,
    today: date | None = None,
) -> AnnualReport:
    """The report for a finished year. A report that was missing starts the listing's removal."""
    today = today or today_local()
    if group.status not in (Group.Status.ACTIVE, Group.Status.EXPIRED):
        raise OrgNotActive(status=group.status)
    if not group.filed_on.year <= year <= today.year - 1:
        raise ValidationFailed(
            errors=[
                field_error(
                    "year",
                    "invalid_year",
                    T(
                        "只能报送备案后已结束年度的报告。",
                        "Report on a finished year since the group was filed.",
                    ),
                )
            ]
        )
    if not summary.strip():
        raise ValidationFailed(
            errors=[field_error("summary", "required", T("此项必填。", "This field is required."))]
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = AnnualReport.objects.create(
                    group=group,
                    year=year,
                    member_count=member_count,
                    activities_held=activities_held,
                    summary=summary.strip(),
                    submitted_by=actor,
                )
        except IntegrityError:
            raise AnnualReportExists(year=year) from None
        audit_record(actor=actor, action="group.annual_report_submitted", target=group, data={"year": year})
        due = calendar.add_days(today, conf.listing_fix_removal_working_days(), working=True)
        for listing in CreditListing.objects.filter(
            group=group,
            list_kind=CreditListing.ListKind.ABNORMAL,
            reason_code=CreditListing.Reason.ANNUAL_REPORT_MISSING,
            related_year=year,
            removed_on__isnull=True,
            fixed_on__isnull=True,
        ):
            CreditListing.objects.filter(pk=listing.pk, fixed_on__isnull=True).update(
                fixed_on=today, removal_due=due
            )
            audit_record(
                actor=actor,
                action="credit_listing.fixed",
                target=listing,
                data={"group": group.pk, "removal_due": _iso(due)},
            )
    return report


# --- credit lists -------------------------------------------------------------------------------


def credit_listing_create(
    *,
    group: Group,
    actor: User | None,
    list_kind: str,
    reason_code: str,
    reason: str,
    basis: str,
    fix_required: bool = True,
    related_year: int | None = None,
    source_listing: CreditListing | None = None,
    dedupe_key: str | None = None,
    today: date | None = None,
) -> CreditListing | None:
    """List a group; with a ``dedupe_key`` already used, nothing happens and ``None`` returns."""
    today = today or today_local()
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("请写明列入事由。", "Give the reason."))]
        )
    if group.status in (Group.Status.DEREGISTERED, Group.Status.REVOKED):
        if actor is None:
            return None
        raise OrgNotActive(status=group.status)
    with transaction.atomic():
        try:
            with transaction.atomic():
                listing = CreditListing.objects.create(
                    group=group,
                    list_kind=list_kind,
                    reason_code=reason_code,
                    reason=reason.strip(),
                    basis=basis.strip() or conf.CREDIT_BASIS,
                    fix_required=fix_required,
                    related_year=related_year,
                    listed_on=today,
                    listed_by=actor if actor is not None and actor.is_authenticated else None,
                    source_listing=source_listing,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            if dedupe_key is None:
                raise
            return None
        audit_record(
            actor=actor,
            action=f"credit_listing.{list_kind}_listed",
            target=listing,
            data={"group": group.pk, "reason_code": reason_code, "related_year": related_year},
            reason=reason,
        )
        kind = "org.serious_listed" if list_kind == CreditListing.ListKind.SERIOUS else "org.abnormal_listed"
        notify(
            user=group.rep,
            kind=kind,
            params={"group_name": group.name, "reason": reason, "listed_on": _iso(today)},
            target=group,
            dedupe_key=f"{kind}:{listing.pk}",
        )
    return listing


def credit_listing_remove(
    *,
    listing: CreditListing,
    actor: User | None,
    reason: str,
    basis: str = "",
    today: date | None = None,
) -> CreditListing:
    """Remove a listing (the row stays, dated). Exactly once: a second removal is a 409."""
    today = today or today_local()
    if not reason.strip():
        raise ValidationFailed(
            errors=[field_error("reason", "required", T("请写明移出理由。", "Give the reason."))]
        )
    with transaction.atomic():
        updated = CreditListing.objects.filter(pk=listing.pk, removed_on__isnull=True).update(
            removed_on=today,
            removed_by=actor if actor is not None and actor.is_authenticated else None,
            removal_reason=reason.strip(),
            removal_basis=basis.strip() or conf.CREDIT_BASIS,
        )
        if not updated:
            raise ListingAlreadyRemoved()
        listing.refresh_from_db()
        audit_record(
            actor=actor,
            action="credit_listing.removed",
            target=listing,
            data={"group": listing.group_id},
            reason=reason,
        )
        notify(
            user=listing.group.rep,
            kind="org.listing_removed",
            params={
                "group_name": listing.group.name,
                "list_label": listing.get_list_kind_display(),
                "removed_on": _iso(today),
                "reason": reason,
            },
            target=listing.group,
            dedupe_key=f"org.listing_removed:{listing.pk}",
        )
    return listing


def filing_policy_save(*, policy: FilingPolicy, actor: User | None) -> FilingPolicy:
    """Policies are changed by staff in the admin; every change is audited."""
    if policy.required_attachments is not None:
        unknown = [k for k in policy.required_attachments if k not in AttachmentKind.values]
        if not isinstance(policy.required_attachments, list) or unknown:
            raise ValidationFailed(
                errors=[
                    field_error(
                        "required_attachments",
                        "invalid_choice",
                        T("材料类型无效。", "Unknown kinds."),
                        unknown=unknown,
                    )
                ]
            )
    with transaction.atomic():
        policy.full_clean()
        policy.save()
        audit_record(
            actor=actor,
            action="filing_policy.saved",
            target=policy,
            data={name: getattr(policy, name) for name in conf.DEFAULT_POLICY},
        )
    return policy


def filing_roster_reveal(*, filing: Filing, actor: User) -> list[dict[str, Any]]:
    """The roster with full ID numbers and phones, for the reviewer deciding; every read is audited."""
    from backend.core.crypto import CryptoError, unseal

    persons = filing_persons(filing)
    rows = []
    for person in persons:
        try:
            number = unseal(person.id_number_sealed, purpose=ID_PURPOSE)
        except CryptoError:
            number = ""
        rows.append({"person": person, "id_number": number})
    audit_record(
        actor=actor,
        action="filing.roster_viewed",
        target=filing,
        data={"persons": [p.pk for p in persons]},
    )
    return rows


def group_renewal_remind(*, group: Group, today: date | None = None) -> bool:
    """Remind the representative once per validity period that renewal is open."""
    today = today or today_local()
    with transaction.atomic():
        sent = notify(
            user=group.rep,
            kind="org.renewal_due",
            params={"group_name": group.name, "valid_until": _iso(group.valid_until)},
            target=group,
            dedupe_key=f"org.renewal_due:{group.pk}:{_iso(group.valid_until)}",
        )
    return sent is not None


def filing_due_notify(*, filing: Filing, reviewers: list[User], today: date | None = None) -> int:
    """Warn the reviewers of a filing due soon, or flag it overdue; once per due date."""
    today = today or today_local()
    if filing.due_date is None:
        return 0
    overdue = filing.due_date < today
    kind = "filing.overdue" if overdue else "filing.due_soon"
    sent = 0
    with transaction.atomic():
        for reviewer in reviewers:
            note = notify(
                user=reviewer,
                kind=kind,
                params=_params(filing, due_date=_iso(filing.due_date)),
                target=filing,
                urgent=overdue,
                dedupe_key=f"{kind}:{filing.pk}:{_iso(filing.due_date)}",
            )
            sent += note is not None
    return sent


def registered_organisation_save(*, organisation, actor: User | None):
    """Staff keep the registered organisations that name checks compare against."""
    with transaction.atomic():
        organisation.name_key = name_key(organisation.name)
        organisation.save()
        audit_record(
            actor=actor,
            action="registered_organisation.saved",
            target=organisation,
            data={"name": organisation.name, "status": organisation.status},
        )
    return organisation
