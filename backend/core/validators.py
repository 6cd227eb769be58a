"""Validators for Chinese identifiers: resident ID numbers, unified social credit codes, mobiles.

Pure functions, no Django. Each ``parse_*`` function returns a small value object or raises a
``ValueError`` subclass whose ``code`` is the stable API error code (``invalid_id_number``,
``invalid_uscc``, ``invalid_phone``) and whose ``reason`` says which rule failed (``format``,
``check_char``, ``birth_date`` …) for logs and messages. Services turn these into domain errors.

Resident ID numbers (居民身份证号码, GB 11643-1999)
    18 characters: 6-digit administrative division code, 8-digit birth date (YYYYMMDD), 3-digit
    sequence number (odd for men, even for women), check character. The check character is ISO 7064
    MOD 11-2: Σ digit_i × weight_i over the first 17 digits with weights 2^(17-i) mod 11, and
    ``"10X98765432"[Σ mod 11]``. The birth date must be a real date, not before 1900 and not in the
    future. The division code is not checked against today's division list on purpose: a number
    keeps the code of the division that issued it, including divisions abolished since.

Unified social credit codes (统一社会信用代码, GB 32100-2015)
    18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V): registration
    department (1), organisation type (1), division code (6 digits), organisation code (9), check
    character ``alphabet[(31 - Σ value_i × 3^i mod 31) mod 31]``. Civil affairs (民政) registers
    organisations with department ``5``; their type is ``1`` 社会团体, ``2`` 民办非企业单位 (now
    社会服务机构), ``3`` 基金会, ``9`` other.

Mainland mobile numbers
    11 digits matching ``^1[3-9]\\d{9}$``; input may carry a +86/0086/86 prefix, spaces, hyphens,
    parentheses or full-width digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "CIVIL_AFFAIRS_ORG_KINDS",
    "USCC_ALPHABET",
    "IdentifierError",
    "InvalidIdNumber",
    "InvalidPhone",
    "InvalidUscc",
    "ResidentId",
    "Uscc",
    "age_on",
    "is_valid_mainland_mobile",
    "is_valid_resident_id",
    "is_valid_uscc",
    "normalize_mainland_mobile",
    "parse_resident_id",
    "parse_uscc",
    "resident_id_check_char",
    "uscc_check_char",
]

SERVER_ZONE = ZoneInfo("Asia/Shanghai")


class IdentifierError(ValueError):
    """An identifier failed validation. ``code`` is the API error code, ``reason`` the failed rule."""

    code = "invalid_identifier"

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or f"{self.code}: {reason}")


class InvalidIdNumber(IdentifierError):
    code = "invalid_id_number"


class InvalidUscc(IdentifierError):
    code = "invalid_uscc"


class InvalidPhone(IdentifierError):
    code = "invalid_phone"


# --- resident ID numbers (GB 11643-1999) -------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17_RE = re.compile(r"[0-9]{17}")
_EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str  # canonical: 18 characters, upper-case X
    division_code: str  # 6 digits, the division that issued the number
    birth_date: date
    gender: Literal["male", "female"]

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 ASCII digits."""
    if not isinstance(first17, str) or not _DIGITS17_RE.fullmatch(first17):
        raise InvalidIdNumber("format", "expected 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_resident_id(s: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number and split it into its parts.

    Surrounding whitespace and a lower-case ``x`` are accepted. ``today`` (default: today in
    Asia/Shanghai) bounds the birth date from above.
    """
    if not isinstance(s, str):
        raise InvalidIdNumber("format", "expected a string")
    number = s.strip()
    if not number.isascii():
        raise InvalidIdNumber("format", "expected 17 digits and a check character")
    number = number.upper()
    if not _ID_RE.fullmatch(number):
        raise InvalidIdNumber("format", "expected 17 digits and a check character")
    if resident_id_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("check_char", "the check character does not match")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date", "the birth date is not a real date") from None
    if today is None:
        today = datetime.now(SERVER_ZONE).date()
    if birth < _EARLIEST_BIRTH or birth > today:
        raise InvalidIdNumber("birth_date", "the birth date is out of range")
    gender: Literal["male", "female"] = "male" if int(number[16]) % 2 else "female"
    return ResidentId(number=number, division_code=number[:6], birth_date=birth, gender=gender)


def is_valid_resident_id(s: str, *, today: date | None = None) -> bool:
    try:
        parse_resident_id(s, today=today)
    except InvalidIdNumber:
        return False
    return True


def age_on(birth_date: date, day: date) -> int:
    """Completed years of life on ``day``. Someone born on 29 February turns a year older on 1 March
    in common years (their birthday has not come yet on 28 February)."""
    if day < birth_date:
        raise ValueError("day is before the birth date")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


# --- unified social credit codes (GB 32100-2015) -----------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_USCC17_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{17}")

CIVIL_AFFAIRS_DEPT = "5"
CivilAffairsOrgKind = Literal["social_group", "private_non_enterprise", "foundation", "other"]
CIVIL_AFFAIRS_ORG_KINDS: dict[str, CivilAffairsOrgKind] = {
    "1": "social_group",  # 社会团体
    "2": "private_non_enterprise",  # 民办非企业单位 / 社会服务机构
    "3": "foundation",  # 基金会
    "9": "other",
}


@dataclass(frozen=True, slots=True)
class Uscc:
    code: str  # canonical: 18 upper-case characters
    registration_dept: str  # 1 char; "5" = civil affairs (民政)
    org_type: str  # 1 char, meaning depends on registration_dept
    division_code: str  # 6 digits
    org_code: str  # 9 chars, the organisation code (GB 11714) incl. its own check char

    @property
    def is_civil_affairs(self) -> bool:
        return self.registration_dept == CIVIL_AFFAIRS_DEPT

    @property
    def civil_affairs_kind(self) -> CivilAffairsOrgKind | None:
        """The civil-affairs organisation form, or None for other departments or unknown types."""
        if not self.is_civil_affairs:
            return None
        return CIVIL_AFFAIRS_ORG_KINDS.get(self.org_type)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    if not isinstance(first17, str) or not _USCC17_RE.fullmatch(first17):
        raise InvalidUscc("format", "expected 17 characters of the code alphabet")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(s: str) -> Uscc:
    """Validate a unified social credit code (whitespace around and lower case are accepted)."""
    if not isinstance(s, str):
        raise InvalidUscc("format", "expected a string")
    code = s.strip()
    if not code.isascii():
        raise InvalidUscc("format", "expected 18 characters of the code alphabet")
    code = code.upper()
    if not _USCC_RE.fullmatch(code):
        raise InvalidUscc("format", "expected 18 characters of the code alphabet")
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidUscc("check_char", "the check character does not match")
    return Uscc(
        code=code,
        registration_dept=code[0],
        org_type=code[1],
        division_code=code[2:8],
        org_code=code[8:17],
    )


def is_valid_uscc(s: str) -> bool:
    try:
        parse_uscc(s)
    except InvalidUscc:
        return False
    return True


# --- mainland mobile numbers -------------------------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_NOISE_RE = re.compile(r"[\s\-()]")


def is_valid_mainland_mobile(s: str) -> bool:
    """True for exactly 11 ASCII digits starting with 13-19 (no prefix, no separators)."""
    return isinstance(s, str) and _MOBILE_RE.fullmatch(s) is not None


def normalize_mainland_mobile(s: str) -> str:
    """Reduce a typed mainland mobile number to its 11 digits.

    Accepts full-width digits, spaces, hyphens, parentheses and a ``+86``, ``0086`` or ``86``
    country prefix: ``"+86 138 0013 8000"``, ``"8613800138000"`` and ``"138-0013-8000"`` all give
    ``"13800138000"``. Anything else raises :class:`InvalidPhone`.
    """
    if not isinstance(s, str):
        raise InvalidPhone("format", "expected a string")
    digits = _MOBILE_NOISE_RE.sub("", unicodedata.normalize("NFKC", s))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE_RE.fullmatch(digits):
        raise InvalidPhone("format", "expected an 11-digit mainland mobile number")
    return digits
