"""Credentials and their badges: issue, renew, re-issue a lost badge, suspend, revoke, reinstate.

Every credential carries a signed token (its badge QR) that expires with it; renewing or
re-issuing signs a new one, and the old QR reads ``revoked`` from the next scan on.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.keys import token_sign
from backend.core.signed_tokens import EPOCH, MAX_DAY, new_token_id
from backend.credentials.errors import CertificateNumberTaken, CredentialTransition
from backend.credentials.models import Association, Credential, Practitioner
from backend.credentials.selectors import practitioner_get
from backend.credentials.services._common import clean_text, reason_text, required_text


def _date_field(errors: list[dict], field: str, value: Any) -> date | None:
    """A date (``date`` or ``YYYY-MM-DD``) within what a token can carry, else ``None`` and an error."""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(clean_text(value))
        except ValueError:
            errors.append(
                field_error(field, "invalid_date", T("日期格式应为 YYYY-MM-DD。", "Use YYYY-MM-DD."))
            )
            return None
    if not EPOCH <= day <= MAX_DAY:
        errors.append(field_error(field, "out_of_range", T("日期超出范围。", "The date is out of range.")))
    return day


def credential_fields(
    *, type: Any, certificate_no: Any, qualification: Any, valid_from: Any, valid_until: Any
) -> tuple[dict[str, Any], list[dict]]:
    """Validated credential fields and the list of field errors (shared by the API and the import)."""
    errors: list[dict] = []
    out: dict[str, Any] = {
        "type": required_text(errors, "type", clean_text(type), 50),
        "certificate_no": required_text(errors, "certificate_no", clean_text(certificate_no).upper(), 50),
        "qualification": required_text(errors, "qualification", clean_text(qualification), 100),
    }
    for field, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        day = _date_field(errors, field, value)
        if day is not None:
            out[field] = day
    if "valid_from" in out and "valid_until" in out and out["valid_until"] < out["valid_from"]:
        errors.append(
            field_error(
                "valid_until", "before_valid_from", T("有效期止早于起始日期。", "Ends before it starts.")
            )
        )
    return out, errors


def _new_token(valid_until: date) -> dict[str, Any]:
    token_id = new_token_id()
    # A credential registered after it ended (historic records, imports) gets a token that is
    # expired from the start: its issue day cannot come after its expiry day.
    issued = min(timezone.localdate(), valid_until)
    token = token_sign(purpose="credential", token_id=token_id, issued=issued, expires=valid_until)
    return {"token_id": token_id.hex(), "token": token, "token_issued": issued}


def credential_issue(
    *,
    actor: Any,
    practitioner: Practitioner,
    type: str,
    certificate_no: str,
    qualification: str,
    valid_from: date | str,
    valid_until: date | str,
) -> Credential:
    """Register a credential and sign its badge token (the token expires with the credential)."""
    fields, errors = credential_fields(
        type=type,
        certificate_no=certificate_no,
        qualification=qualification,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        if Credential.objects.filter(
            association_id=practitioner.association_id, certificate_no=fields["certificate_no"]
        ).exists():
            raise CertificateNumberTaken()
        try:
            with transaction.atomic():
                credential = Credential.objects.create(
                    association_id=practitioner.association_id,
                    practitioner=practitioner,
                    **fields,
                    **_new_token(fields["valid_until"]),
                )
        except IntegrityError:
            raise CertificateNumberTaken() from None
        audit_record(
            actor=actor,
            action="credential.issue",
            target=credential,
            data={
                "practitioner_id": practitioner.pk,
                "certificate_no": fields["certificate_no"],
                "valid_until": fields["valid_until"].isoformat(),
            },
        )
    return credential


def credential_issue_for(
    *, actor: Any, association: Association, practitioner_id: int, **fields: Any
) -> Credential:
    """``credential_issue`` for the practitioner ``practitioner_id`` of ``association`` (the API's
    form): an id the association does not know is a field error (422), not a 404."""
    practitioner = practitioner_get(association=association, practitioner_id=practitioner_id)
    if practitioner is None:
        raise ValidationFailed(
            errors=[
                field_error("practitioner_id", "not_found", T("找不到该从业人员。", "No such practitioner."))
            ]
        )
    return credential_issue(actor=actor, practitioner=practitioner, **fields)


def credential_renew(*, actor: Any, credential: Credential, valid_until: date) -> Credential:
    """Extend (or shorten) the validity; the badge gets a new token whose expiry matches."""
    _, errors = credential_fields(
        type=credential.type,
        certificate_no=credential.certificate_no,
        qualification=credential.qualification,
        valid_from=credential.valid_from,
        valid_until=valid_until,
    )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if locked.status == Credential.Status.REVOKED:
            raise CredentialTransition()
        changes = {"valid_until": valid_until, **_new_token(valid_until), "updated_at": timezone.now()}
        Credential.objects.filter(pk=locked.pk).update(**changes)
        audit_record(
            actor=actor,
            action="credential.renew",
            target=locked,
            data={"from": locked.valid_until.isoformat(), "to": valid_until.isoformat()},
        )
    credential.refresh_from_db()
    return credential


def credential_reissue_badge(*, actor: Any, credential: Credential, reason: str) -> Credential:
    """A new token for a lost or stolen badge: the old QR stops being valid at once."""
    text = reason_text(reason)
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if locked.status == Credential.Status.REVOKED:
            raise CredentialTransition()
        old = locked.token_id
        Credential.objects.filter(pk=locked.pk).update(
            **_new_token(locked.valid_until), updated_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="credential.reissue_badge",
            target=locked,
            data={"old_token_id": old},
            reason=text,
        )
    credential.refresh_from_db()
    return credential


# The status changes: action → (the statuses it may start from, the status it leads to).
_TRANSITIONS = {
    "suspend": ({Credential.Status.VALID}, Credential.Status.SUSPENDED),
    "revoke": ({Credential.Status.VALID, Credential.Status.SUSPENDED}, Credential.Status.REVOKED),
    "reinstate": ({Credential.Status.SUSPENDED}, Credential.Status.VALID),
}


def _credential_transition(*, actor: Any, credential: Credential, action: str, reason: str) -> Credential:
    text = reason_text(reason)
    allowed, target = _TRANSITIONS[action]
    with transaction.atomic():
        now = timezone.now()
        updated = Credential.objects.filter(pk=credential.pk, status__in=allowed).update(
            status=target, reason=text, status_changed_at=now, updated_at=now
        )
        if not updated:
            current = Credential.objects.filter(pk=credential.pk).values_list("status", flat=True).first()
            raise CredentialTransition(status=current, action=action)
        audit_record(
            actor=actor,
            action=f"credential.{action}",
            target=credential,
            data={"from": credential.status, "to": target},
            reason=text,
        )
    credential.status, credential.reason, credential.status_changed_at = target, text, now
    return credential


def credential_suspend(*, actor: Any, credential: Credential, reason: str) -> Credential:
    return _credential_transition(actor=actor, credential=credential, action="suspend", reason=reason)


def credential_revoke(*, actor: Any, credential: Credential, reason: str) -> Credential:
    return _credential_transition(actor=actor, credential=credential, action="revoke", reason=reason)


def credential_reinstate(*, actor: Any, credential: Credential, reason: str) -> Credential:
    return _credential_transition(actor=actor, credential=credential, action="reinstate", reason=reason)
