"""Masking of personal data for display.

Total functions: any input (``None``, non-strings, odd lengths) gives a string and never raises;
empty or blank input gives ``""``. Every rule masks at least one character of any non-empty
value, so a masked value never shows the whole value, whatever its shape.

Names (the brief shows 张*三)
    Han names, by character count (surrounding whitespace dropped):
    1 → ``*``; 2 → first + ``*`` (张三 → 张*); 3 or more → first + ``*`` × (n − 2) + last
    (张小三 → 张*三, 欧阳小锋 → 欧**锋, 司马相如 → 司**如). Compound surnames are not special-cased:
    telling 欧阳 from 欧 needs a list, and showing one character less is the safe side.
    Names made of several words (Latin script, or transliterated names joined by ``·`` like
    阿依古丽·买买提) are masked word by word, keeping only each word's first character:
    ``John Smith`` → ``J*** S****``, ``阿依古丽·买买提`` → ``阿***·买**``. Separators are kept.

Mobile numbers
    ``13800138000`` (also written ``+86 138-0013-8000``) → ``138****8000``, the form the brief
    fixes. Any other string keeps at most a quarter of its characters on each side (and at most
    3 in front, 4 at the end): ``0755-12345678`` → ``075*******678``.

ID numbers (the brief: first 1 and last 1 shown)
    ``11010519491231002X`` → ``1****************X``; any other length n ≥ 4 → first + ``*`` × (n−2)
    + last; shorter → all ``*``.

E-mail addresses
    ``zhangsan@example.com`` → ``z*******@example.com``: the local part keeps its first character
    (a 1-character local part becomes ``*``), the domain stays.
"""

from __future__ import annotations

import re

from backend.core.validators import InvalidPhone, normalize_mainland_mobile

__all__ = ["mask_email", "mask_id_number", "mask_name", "mask_phone"]

MASK = "*"
_NAME_SPLIT_RE = re.compile(r"(\s+|[·•・.\-])")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _keep_first(word: str) -> str:
    if len(word) <= 1:
        return MASK * len(word)
    return word[0] + MASK * (len(word) - 1)


def _mask_han_name(name: str) -> str:
    n = len(name)
    if n == 1:
        return MASK
    if n == 2:
        return name[0] + MASK
    return name[0] + MASK * (n - 2) + name[-1]


def mask_name(name: object) -> str:
    text = _text(name)
    if not text:
        return ""
    parts = _NAME_SPLIT_RE.split(text)
    if len(parts) == 1:
        return _mask_han_name(text)
    if not any(parts[::2]):  # separators only: nothing name-like to keep
        return MASK * len(text)
    # Odd indexes are the separators captured by the split; even indexes are words.
    return "".join(part if i % 2 else _keep_first(part) for i, part in enumerate(parts))


def _mask_middle(text: str, *, front: int, back: int) -> str:
    return text[:front] + MASK * (len(text) - front - back) + (text[-back:] if back else "")


def mask_phone(phone: object) -> str:
    text = _text(phone)
    if not text:
        return ""
    try:
        mobile = normalize_mainland_mobile(text)
    except InvalidPhone:
        n = len(text)
        return _mask_middle(text, front=min(3, n // 4), back=min(4, n // 4))
    return _mask_middle(mobile, front=3, back=4)


def mask_id_number(number: object) -> str:
    text = _text(number)
    if len(text) < 4:
        return MASK * len(text)
    return _mask_middle(text, front=1, back=1)


def mask_email(email: object) -> str:
    text = _text(email)
    local, at, domain = text.rpartition("@")
    if not at:
        return _keep_first(text)
    if not local:
        return MASK + at + domain
    return _keep_first(local) + at + domain
