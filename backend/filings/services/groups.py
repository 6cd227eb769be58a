"""A filed group's life after approval: change, renewal and deregistration (注销) filings, copied
from the group and reviewed like the first one; revocation (撤销) by the reviewer; expiry and the
renewal reminder run by the sweep."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import F

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.errors import InvalidTransition, ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings.errors import FilingInProgress, OrgNotActive, RenewalNotOpen
from backend.filings.models import Filing, FilingAttachment, FilingPerson, Group
from backend.filings.selectors import filing_persons, filing_policy_effective, group_open_filing, today_local
from backend.filings.services._common import (
    GROUP_FIELDS,
    TRANSITIONS,
    S,
    check_reasons,
    iso,
    reasons_text,
    record,
    texts_check,
    transition,
)
from backend.notifications.services import notify

GROUP_FILING_KINDS = (Filing.Kind.CHANGE, Filing.Kind.RENEWAL, Filing.Kind.DEREGISTRATION)


def _check_group_filing_allowed(*, group: Group, kind: str, today: date) -> None:
    """A deregistration needs a group in force or expired; a change or renewal one in force, and
    a renewal only within its window before the valid-until date. One open filing at a time."""
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
            raise RenewalNotOpen(opens_on=iso(opens), valid_until=iso(group.valid_until))
    if group_open_filing(group) is not None:
        raise FilingInProgress()


def _copy_roster_and_documents(*, source: Filing, filing: Filing) -> None:
    """The new draft starts with the current roster and documents of the group's filing."""
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


def group_filing_create(
    *, group: Group, actor: User, kind: str, statement: str = "", today: date | None = None
) -> Filing:
    """A change, renewal or deregistration filing of a group: a draft copied from the group,
    reviewed like the first one."""
    today = today or today_local()
    if kind not in GROUP_FILING_KINDS:
        raise ValidationFailed(
            errors=[field_error("kind", "invalid_choice", T("不是允许的选项。", "Not allowed."))]
        )
    checked = texts_check(actor=actor, fields={"statement": statement})
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        _check_group_filing_allowed(group=group, kind=kind, today=today)
        filing = Filing.objects.create(
            kind=kind,
            rep=actor,
            group=group,
            community_id=group.community_id,
            statement=statement,
            **{name: getattr(group, name) for name in GROUP_FIELDS},
        )
        checked.attach(filing)
        source = group.current_filing
        if kind != Filing.Kind.DEREGISTRATION and source is not None:
            _copy_roster_and_documents(source=source, filing=filing)
        record(
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
    reasons = check_reasons(reasons, per_field=False)
    with transaction.atomic():
        updated = Group.objects.filter(
            pk=group.pk, status__in=(Group.Status.ACTIVE, Group.Status.EXPIRED)
        ).update(
            status=Group.Status.REVOKED,
            status_changed_on=today,
            status_reason=reasons_text(reasons),
            version=F("version") + 1,
        )
        if not updated:
            raise InvalidTransition(
                action="revoke", status=Group.objects.values_list("status", flat=True).get(pk=group.pk)
            )
        group.refresh_from_db()
        # Open filings of a revoked group end with it.
        for filing in group.filings.filter(status__in=TRANSITIONS["withdraw"].keys()):
            transition(filing=filing, action="withdraw", actor=actor, note="组织备案已撤销")
        audit_record(
            actor=actor,
            action="group.revoked",
            target=group,
            data={"reasons": reasons},
            reason=reasons_text(reasons),
        )
        notify(
            user=group.rep,
            kind="org.revoked",
            params={"group_name": group.name, "reasons": reasons_text(reasons)},
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
                data={"valid_until": iso(group.valid_until)},
            )
            notify(
                user=group.rep,
                kind="org.expired",
                params={"group_name": group.name, "valid_until": iso(group.valid_until)},
                target=group,
                dedupe_key=f"org.expired:{group.pk}:{iso(group.valid_until)}",
            )
    return bool(updated)


def group_renewal_remind(*, group: Group, today: date | None = None) -> bool:
    """Remind the representative once per validity period that renewal is open."""
    with transaction.atomic():
        sent = notify(
            user=group.rep,
            kind="org.renewal_due",
            params={"group_name": group.name, "valid_until": iso(group.valid_until)},
            target=group,
            dedupe_key=f"org.renewal_due:{group.pk}:{iso(group.valid_until)}",
        )
    return sent is not None
