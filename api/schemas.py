"""Schemas shared across routers, and ``Schema``: the base of every API schema."""

from __future__ import annotations

import datetime as dt
import decimal
import types
import typing
from typing import Any

from ninja import Query
from ninja import Schema as NinjaSchema
from ninja.schema import DjangoGetter
from pydantic import ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

_NUMBERS = (int, float, decimal.Decimal)
_TIMES = (dt.datetime, dt.date, dt.time)


def _kinds(annotation: Any) -> set[Any]:
    """The plain types a field annotation accepts (``int | None`` -> {int, NoneType})."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))
    return {annotation}


# --- constraints published as the server applies them ---------------------------------------------
#: A page cursor is the unpadded base64url text of a key (at most 19 digits): opaque to clients,
#: who pass back ``next_cursor``; anything else is a 422 ``invalid_cursor``.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,26}$"
#: Statistical division codes: province 2, city 4, district 6, street 9, community 12 digits.
DIVISION_PATTERN = r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$"
#: A street (9 digits) or a community (12 digits): where groups file.
LOCAL_DIVISION_PATTERN = r"^([0-9]{9}|[0-9]{12})$"
# A mainland mobile number as ``backend.core.validators.normalize_mainland_mobile`` takes it:
# 11 digits 1[3-9]..., optionally after +86 / 0086 / 86, with spaces, hyphens and parentheses
# (ASCII or full-width) anywhere, full-width digits allowed.
_NOISE = r"[\s\-()（）－]*"
_D = "[0-9０-９]"
MOBILE_PATTERN = (
    rf"^{_NOISE}(?:(?:[+＋]|[0０]{_NOISE}[0０])?{_NOISE}[8８]{_NOISE}[6６]{_NOISE})?"
    rf"[1１]{_NOISE}[3-9３-９](?:{_NOISE}{_D}){{9}}{_NOISE}$"
)
#: A reason, a note a person must write: some text that is not only spaces.
TEXT_PATTERN = r"\S"
#: Ids are bigint keys: anything larger is a 422, never a database overflow.
MAX_ID = 2**63 - 1


def cursor_param() -> Any:
    return Query(
        None,
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the page before (opaque); none for the first page.",
    )


class Schema(NinjaSchema):
    """A django-ninja schema that takes JSON as it was meant:

    * a value declared as an object must be one (``"hello"`` or ``[null, null]`` as a body is a 422,
      where ninja's attribute lookup would read it as an object with every field left out);
    * no loose coercions: ``false`` is not a number (an id), a number is not a time;
    * a date-time carries its offset (``2026-12-05T10:00:00+08:00``): without one it is a 422
      ``offset_required``, since the server cannot know which zone the client meant.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: Any, info: ValidationInfo) -> Any:
        # Replaces ninja's own (same name), which reads any value through attribute lookup: a
        # JSON text, number or list is refused here first.
        if isinstance(values, str | bytes | int | float | list | tuple) or values is None:
            raise PydanticCustomError("model_type", "Input should be an object")
        if cls.model_config.get("extra") == "forbid" or cls.model_config.get("validate_assignment", False):
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))

    @field_validator("*", mode="before")
    @classmethod
    def _no_loose_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, bool | int | float) or info.field_name is None:
            return value
        kinds = _kinds(cls.model_fields[info.field_name].annotation)
        if isinstance(value, bool) and bool not in kinds and kinds & set(_NUMBERS):
            raise PydanticCustomError("int_type", "Input should be a number, not a boolean")
        if not isinstance(value, bool) and kinds & set(_TIMES) and not kinds & {*_NUMBERS, bool}:
            raise PydanticCustomError("datetime_type", "Input should be an ISO 8601 text")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _offset_required(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise PydanticCustomError("offset_required", "The time needs its UTC offset (such as +08:00)")
        return value


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


# Documented on every operation that can fail, so clients see the single error body.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    # Any request whose body is over the server's limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``).
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    # The database or the media storage away (service_unavailable / storage_unavailable, with
    # Retry-After): any operation may answer it (backend.core.faults).
    503: ErrorOut,
}


def errors(*extra: int) -> dict[int, type[Schema]]:
    """``ERRORS`` plus statuses only some operations answer (413 too large, 415 wrong type,
    503 unavailable): ``response={201: XOut, **errors(413, 415)}``."""
    return {**ERRORS, **dict.fromkeys(extra, ErrorOut)}


class OkOut(Schema):
    ok: bool = True
