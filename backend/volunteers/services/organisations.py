"""Volunteer organisations (志愿服务组织), their coordinators, and red-vest service posts (U站)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from backend.accounts.models import Role, ScopeType, User
from backend.accounts.services import grant_role
from backend.core.audit import audit_record
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.geo import gcj02_to_wgs84
from backend.core.i18n import T
from backend.core.validators import InvalidPhone, InvalidUscc, normalize_mainland_mobile, parse_uscc
from backend.volunteers.models import Organisation, ServicePost
from backend.volunteers.services._common import _division


def organisation_create(
    *,
    by: User,
    name: str,
    division_code: str,
    uscc: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Organisation:
    if uscc:
        try:
            uscc = parse_uscc(uscc).code
        except InvalidUscc:
            raise ValidationFailed(
                errors=[field_error("uscc", "invalid_uscc", T("统一社会信用代码无效。", "Invalid USCC."))]
            ) from None
    division = _division(division_code)
    with transaction.atomic():
        org = Organisation.objects.create(
            name=name.strip(),
            division=division,
            uscc=uscc,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        audit_record(actor=by, action="volunteer_org.created", target=org, data={"name": org.name})
    return org


def organisation_coordinator_add(*, organisation: Organisation, user: User, by: User) -> None:
    grant_role(
        user=user,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(organisation.pk),
        by=by,
    )


def organisation_coordinator_add_by_phone(*, organisation: Organisation, phone: str, by: User) -> User:
    """Make the registered user with this mainland mobile number a coordinator of ``organisation``."""
    try:
        number = normalize_mainland_mobile(phone)
    except InvalidPhone:
        raise ValidationFailed(
            errors=[field_error("phone", "invalid_phone", T("手机号无效。", "Invalid phone."))]
        ) from None
    user = User.objects.filter(phone=number).first()
    if user is None:
        raise NotFound(T("该手机号尚未注册。", "No user with this phone number."))
    organisation_coordinator_add(organisation=organisation, user=user, by=by)
    return user


def service_post_create(
    *,
    by: User,
    name: str,
    division_code: str,
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    host: str = "",
    organisation: Organisation | None = None,
    geofence_radius_m: int = 200,
    coord: str = "wgs84",
) -> ServicePost:
    """A service post; its location is stored in WGS-84 (``coord="gcj02"`` converts what a phone's
    map gave), the self check-in geofence is ``geofence_radius_m`` around it."""
    division = _division(division_code)
    errors = []
    if latitude is not None and not (-90 <= latitude <= 90):
        errors.append(field_error("latitude", "out_of_range", T("纬度超出范围。", "Latitude out of range.")))
    if longitude is not None and not (-180 <= longitude <= 180):
        errors.append(
            field_error("longitude", "out_of_range", T("经度超出范围。", "Longitude out of range."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    if coord == "gcj02" and latitude is not None and longitude is not None:
        lat, lon = gcj02_to_wgs84(float(latitude), float(longitude))
        latitude, longitude = Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")
    with transaction.atomic():
        post = ServicePost.objects.create(
            name=name.strip(),
            division=division,
            address=address,
            latitude=latitude,
            longitude=longitude,
            host=host,
            organisation=organisation,
            geofence_radius_m=geofence_radius_m,
        )
        audit_record(actor=by, action="service_post.created", target=post)
    return post
