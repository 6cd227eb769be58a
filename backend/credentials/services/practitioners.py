"""Practitioners (从业人员) of an association: registration, changes, the audited read of the full ID
number, and the badge photo."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal, unseal
from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T
from backend.core.validators import (
    InvalidIdNumber,
    InvalidPhone,
    normalize_mainland_mobile,
    parse_resident_id,
)
from backend.credentials import conf
from backend.credentials.errors import PhotoRejected, PractitionerExists
from backend.credentials.models import ID_PURPOSE, Association, Practitioner
from backend.credentials.services._common import clean_text, optional_text, required_text
from backend.wechat.services.security import Scene, image_check_start
from media import MediaError, process_image


def _id_number_fields(errors: list[dict], value: Any) -> dict[str, str]:
    """The number sealed and blind-indexed, or nothing (and an error) when it is not valid."""
    text = clean_text(value)
    if not text:
        errors.append(field_error("id_number", "required", T("此项必填。", "This field is required.")))
        return {}
    try:
        number = parse_resident_id(text).number
    except InvalidIdNumber as exc:
        errors.append(
            field_error("id_number", exc.code, T("身份证号码无效。", "Invalid ID number."), reason=exc.reason)
        )
        return {}
    return {
        "id_number_sealed": seal(number, purpose=ID_PURPOSE),
        "id_number_index": blind_index(number, purpose=ID_PURPOSE),
    }


def _mobile(errors: list[dict], value: Any) -> str:
    """The normalised mainland mobile number; empty when none is given or it is not valid."""
    text = clean_text(value)
    if not text:
        return ""
    try:
        return normalize_mainland_mobile(text)
    except InvalidPhone as exc:
        errors.append(field_error("mobile", exc.code, T("手机号码无效。", "Invalid mobile number.")))
        return ""


def _status(errors: list[dict], value: str) -> dict[str, str]:
    if value not in Practitioner.Status.values:
        errors.append(
            field_error("status", "invalid_choice", T("不是允许的选项。", "Not an allowed choice."))
        )
        return {}
    return {"status": value}


def practitioner_fields(
    *,
    name: Any,
    id_number: Any = None,
    mobile: Any = "",
    employer: Any = "",
    status: Any = None,
    partial: bool = False,
) -> tuple[dict[str, Any], list[dict]]:
    """Validated practitioner fields (the ID number sealed and indexed) and the list of field errors.

    Shared by the API and the bulk import so both apply the same rules. With ``partial``, only
    the fields given (not ``None``) are checked and returned."""
    errors: list[dict] = []
    out: dict[str, Any] = {}
    if not partial or name is not None:
        out["name"] = required_text(errors, "name", clean_text(name), 50)
    if not partial or id_number is not None:
        out.update(_id_number_fields(errors, id_number))
    if not partial or mobile is not None:
        out["mobile"] = _mobile(errors, mobile)
    if not partial or employer is not None:
        out["employer"] = optional_text(errors, "employer", clean_text(employer), 100)
    if status is not None:
        out.update(_status(errors, status))
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


def practitioner_photo_upload(*, actor: Any, practitioner: Practitioner, upload: File) -> Practitioner:
    """``practitioner_photo_set`` for an uploaded file: one over the size limit is refused
    before it is read."""
    if upload.size and upload.size > conf.photo_max_bytes():
        raise PhotoRejected(code="file_too_large", limit=conf.photo_max_bytes())
    return practitioner_photo_set(actor=actor, practitioner=practitioner, data=upload.read())


def practitioner_photo_set(*, actor: Any, practitioner: Practitioner, data: bytes) -> Practitioner:
    """Clean the photo (type from the bytes, limits, EXIF stripped, thumbnail) and store it."""
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
        # Residents see it when they scan the badge: WeChat's image check (a risky photo is then
        # left out of the lookup and the badge).
        image_check_start(owner=actor, media=photo, target=practitioner, field="photo", scene=Scene.PROFILE)
        audit_record(
            actor=actor, action="practitioner.photo", target=practitioner, data={"sha256": image.sha256}
        )

        def _drop_old() -> None:
            for name in old:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(_drop_old)
    return practitioner
