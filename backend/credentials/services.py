"""Writes of the credentials domain. Every change is audited inside its transaction."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal, unseal
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.keys import token_sign
from backend.core.signed_tokens import EPOCH, MAX_DAY, new_token_id
from backend.core.validators import (
    InvalidIdNumber,
    InvalidPhone,
    InvalidUscc,
    normalize_mainland_mobile,
    parse_resident_id,
    parse_uscc,
)
from backend.credentials import conf
from backend.credentials.errors import (
    AssociationNameTaken,
    BlacklistEntryLifted,
    CertificateNumberTaken,
    CredentialTransition,
    PhotoRejected,
    PractitionerBlacklisted,
    PractitionerExists,
    ReasonRequired,
)
from backend.credentials.models import (
    Association,
    BlacklistEntry,
    Credential,
    CreditRecord,
    Practitioner,
)

ID_PURPOSE = "credentials.practitioner.id_number"


def clean_text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _required(errors: list, field: str, value: str, max_length: int) -> str:
    if not value:
        errors.append(field_error(field, "required", T("此项必填。", "This field is required.")))
    elif len(value) > max_length:
        errors.append(field_error(field, "too_long", T("内容过长。", "Too long."), max_length=max_length))
    return value


def _optional(errors: list, field: str, value: str, max_length: int) -> str:
    if len(value) > max_length:
        errors.append(field_error(field, "too_long", T("内容过长。", "Too long."), max_length=max_length))
    return value


def _reason(reason: str) -> str:
    text = clean_text(reason)
    if not text:
        raise ReasonRequired(
            errors=[field_error("reason", "required", T("请填写原因。", "A reason is required."))]
        )
    return text[:2000]


# --- associations ------------------------------------------------------------------------------


def _association_fields(*, name: Any, short_name: Any, uscc: Any, contact_phone: Any) -> dict[str, str]:
    errors: list[dict] = []
    out = {
        "name": _required(errors, "name", clean_text(name), 100),
        "short_name": _optional(errors, "short_name", clean_text(short_name), 30),
        "uscc": clean_text(uscc).upper(),
        "contact_phone": _optional(errors, "contact_phone", clean_text(contact_phone), 20),
    }
    if out["uscc"]:
        try:
            out["uscc"] = parse_uscc(out["uscc"]).code
        except InvalidUscc as exc:
            errors.append(
                field_error(
                    "uscc", exc.code, T("统一社会信用代码无效。", "Invalid unified social credit code.")
                )
            )
    if errors:
        raise ValidationFailed(errors=errors)
    return out


def association_create(
    *, actor: Any, name: str, short_name: str = "", uscc: str = "", contact_phone: str = ""
) -> Association:
    fields = _association_fields(name=name, short_name=short_name, uscc=uscc, contact_phone=contact_phone)
    with transaction.atomic():
        if Association.objects.filter(name=fields["name"]).exists():
            raise AssociationNameTaken()
        association = Association.objects.create(**fields)
        audit_record(actor=actor, action="association.create", target=association, data=fields)
    return association


def association_update(*, actor: Any, association: Association, **changes: Any) -> Association:
    current = {k: getattr(association, k) for k in ("name", "short_name", "uscc", "contact_phone")}
    fields = _association_fields(**{**current, **{k: v for k, v in changes.items() if v is not None}})
    with transaction.atomic():
        if Association.objects.filter(name=fields["name"]).exclude(pk=association.pk).exists():
            raise AssociationNameTaken()
        changed = {k: v for k, v in fields.items() if current[k] != v}
        if changed:
            Association.objects.filter(pk=association.pk).update(**changed)
            for k, v in changed.items():
                setattr(association, k, v)
            audit_record(actor=actor, action="association.update", target=association, data=changed)
    return association


# --- practitioners -----------------------------------------------------------------------------


def practitioner_fields(
    *,
    name: Any,
    id_number: Any = None,
    mobile: Any = "",
    employer: Any = "",
    status: Any = None,
    partial=False,
) -> tuple[dict[str, Any], list[dict]]:
    """Validated practitioner fields (the ID number sealed and indexed) and the list of field errors.

    Shared by the API and the bulk import so both apply the same rules."""
    errors: list[dict] = []
    out: dict[str, Any] = {}
    if not partial or name is not None:
        out["name"] = _required(errors, "name", clean_text(name), 50)
    if not partial or id_number is not None:
        text = clean_text(id_number)
        if not text:
            errors.append(field_error("id_number", "required", T("此项必填。", "This field is required.")))
        else:
            try:
                number = parse_resident_id(text).number
                out["id_number_sealed"] = seal(number, purpose=ID_PURPOSE)
                out["id_number_index"] = blind_index(number, purpose=ID_PURPOSE)
            except InvalidIdNumber as exc:
                errors.append(
                    field_error(
                        "id_number", exc.code, T("身份证号码无效。", "Invalid ID number."), reason=exc.reason
                    )
                )
    if not partial or mobile is not None:
        text = clean_text(mobile)
        out["mobile"] = ""
        if text:
            try:
                out["mobile"] = normalize_mainland_mobile(text)
            except InvalidPhone as exc:
                errors.append(field_error("mobile", exc.code, T("手机号码无效。", "Invalid mobile number.")))
    if not partial or employer is not None:
        out["employer"] = _optional(errors, "employer", clean_text(employer), 100)
    if status is not None:
        if status not in Practitioner.Status.values:
            errors.append(
                field_error("status", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
            )
        else:
            out["status"] = status
    return out, errors


def practitioner_create(
    *,
    actor: Any,
    association: Association,
    name: str,
    id_number: str,
    mobile: str = "",
    employer: str = "",
) -> Practitioner:
    fields, errors = practitioner_fields(name=name, id_number=id_number, mobile=mobile, employer=employer)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        if Practitioner.objects.filter(
            association=association, id_number_index=fields["id_number_index"]
        ).exists():
            raise PractitionerExists()
        practitioner = Practitioner.objects.create(association=association, **fields)
        audit_record(
            actor=actor,
            action="practitioner.create",
            target=practitioner,
            data={"association_id": association.pk, "employer": fields["employer"]},
        )
    return practitioner


def practitioner_update(*, actor: Any, practitioner: Practitioner, **changes: Any) -> Practitioner:
    fields, errors = practitioner_fields(
        name=changes.get("name"),
        id_number=changes.get("id_number"),
        mobile=changes.get("mobile"),
        employer=changes.get("employer"),
        status=changes.get("status"),
        partial=True,
    )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        index = fields.get("id_number_index")
        if (
            index
            and Practitioner.objects.filter(association_id=practitioner.association_id, id_number_index=index)
            .exclude(pk=practitioner.pk)
            .exists()
        ):
            raise PractitionerExists()
        changed = {k: v for k, v in fields.items() if getattr(practitioner, k) != v}
        if index == practitioner.id_number_index:  # the same number re-sealed is no change
            changed.pop("id_number_sealed", None)
            changed.pop("id_number_index", None)
        if changed:
            changed["updated_at"] = timezone.now()
            Practitioner.objects.filter(pk=practitioner.pk).update(**changed)
            for k, v in changed.items():
                setattr(practitioner, k, v)
            audit_record(
                actor=actor,
                action="practitioner.update",
                target=practitioner,
                data={"fields": sorted(k for k in changed if k != "updated_at")},
            )
    return practitioner


def practitioner_id_number_read(*, actor: Any, practitioner: Practitioner) -> str:
    """The full ID number; every read is audited."""
    number = unseal(practitioner.id_number_sealed, purpose=ID_PURPOSE)
    audit_record(actor=actor, action="practitioner.read_id_number", target=practitioner)
    return number


def practitioner_photo_set(*, actor: Any, practitioner: Practitioner, data: bytes) -> Practitioner:
    """Clean the photo (type from the bytes, limits, EXIF stripped, thumbnail) and store it."""
    from media import MediaError, process_image

    try:
        image = process_image(data, max_bytes=conf.photo_max_bytes(), max_side=1200, thumb_side=240)
    except MediaError as exc:
        raise PhotoRejected(code=exc.code, **exc.details) from None
    stem = f"credentials/photos/{uuid.uuid4().hex}"
    old = (practitioner.photo, practitioner.photo_thumb)
    with transaction.atomic():
        photo = default_storage.save(f"{stem}.{image.ext}", ContentFile(image.content))
        thumb = default_storage.save(f"{stem}.thumb.{image.ext}", ContentFile(image.thumbnail))
        Practitioner.objects.filter(pk=practitioner.pk).update(
            photo=photo, photo_thumb=thumb, updated_at=timezone.now()
        )
        practitioner.photo, practitioner.photo_thumb = photo, thumb
        audit_record(
            actor=actor, action="practitioner.photo", target=practitioner, data={"sha256": image.sha256}
        )

        def _drop_old() -> None:
            for name in old:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(_drop_old)
    return practitioner


# --- credentials -------------------------------------------------------------------------------


def credential_fields(
    *, type: Any, certificate_no: Any, qualification: Any, valid_from: Any, valid_until: Any
) -> tuple[dict[str, Any], list[dict]]:
    errors: list[dict] = []
    out: dict[str, Any] = {
        "type": _required(errors, "type", clean_text(type), 50),
        "certificate_no": _required(errors, "certificate_no", clean_text(certificate_no).upper(), 50),
        "qualification": _required(errors, "qualification", clean_text(qualification), 100),
    }
    for field, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if isinstance(value, date):
            out[field] = value
        else:
            try:
                out[field] = date.fromisoformat(clean_text(value))
            except ValueError:
                errors.append(
                    field_error(field, "invalid_date", T("日期格式应为 YYYY-MM-DD。", "Use YYYY-MM-DD."))
                )
                continue
        if not EPOCH <= out[field] <= MAX_DAY:
            errors.append(
                field_error(field, "out_of_range", T("日期超出范围。", "The date is out of range."))
            )
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
    text = _reason(reason)
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


_TRANSITIONS = {
    "suspend": ({Credential.Status.VALID}, Credential.Status.SUSPENDED),
    "revoke": ({Credential.Status.VALID, Credential.Status.SUSPENDED}, Credential.Status.REVOKED),
    "reinstate": ({Credential.Status.SUSPENDED}, Credential.Status.VALID),
}


def _credential_transition(*, actor: Any, credential: Credential, action: str, reason: str) -> Credential:
    text = _reason(reason)
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


# --- credit records and blacklist --------------------------------------------------------------


def credit_record_add(
    *, actor: Any, practitioner: Practitioner, date: date, kind: str, text: str
) -> CreditRecord:
    errors: list[dict] = []
    if kind not in CreditRecord.Kind.values:
        errors.append(field_error("kind", "invalid_choice", T("不是允许的选项。", "Not an allowed choice.")))
    body = _required(errors, "text", clean_text(text), 2000)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        record = CreditRecord.objects.create(
            practitioner=practitioner, date=date, kind=kind, text=body, created_by=_user(actor)
        )
        audit_record(
            actor=actor,
            action="credit_record.add",
            target=record,
            data={"practitioner_id": practitioner.pk, "kind": kind, "date": date.isoformat()},
        )
    return record


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def practitioner_blacklist(
    *, actor: Any, practitioner: Practitioner, listed_on: date, reason: str, basis: str
) -> BlacklistEntry:
    """List a practitioner: every credential of theirs shows ``blacklisted`` from now on."""
    text = _reason(reason)
    errors: list[dict] = []
    basis_text = _required(errors, "basis", clean_text(basis), 200)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        if BlacklistEntry.objects.filter(practitioner=practitioner, lifted_at__isnull=True).exists():
            raise PractitionerBlacklisted()
        try:
            with transaction.atomic():
                entry = BlacklistEntry.objects.create(
                    practitioner=practitioner,
                    listed_on=listed_on,
                    reason=text,
                    basis=basis_text,
                    created_by=_user(actor),
                )
        except IntegrityError:
            raise PractitionerBlacklisted() from None
        audit_record(
            actor=actor,
            action="practitioner.blacklist",
            target=entry,
            data={
                "practitioner_id": practitioner.pk,
                "listed_on": listed_on.isoformat(),
                "basis": basis_text,
            },
            reason=text,
        )
    return entry


def blacklist_lift(*, actor: Any, entry: BlacklistEntry, reason: str) -> BlacklistEntry:
    text = _reason(reason)
    with transaction.atomic():
        now = timezone.now()
        if not BlacklistEntry.objects.filter(pk=entry.pk, lifted_at__isnull=True).update(
            lifted_at=now, lift_reason=text
        ):
            raise BlacklistEntryLifted()
        audit_record(
            actor=actor,
            action="practitioner.blacklist_lift",
            target=entry,
            data={"practitioner_id": entry.practitioner_id},
            reason=text,
        )
    entry.lifted_at, entry.lift_reason = now, text
    return entry
