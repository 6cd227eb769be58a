"""Keyset (cursor) pagination shared by the list endpoints.

A cursor is an opaque URL-safe string naming the last key a client has seen. A page is read in
one query (``limit + 1`` rows: the extra row only tells whether more follow), so a page costs the
same whatever its size and stays stable when rows are inserted meanwhile.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db.models import QuerySet

from backend.core.errors import ValidationFailed, field_error
from backend.core.i18n import T

# The largest value a bigint primary key can hold; larger cursors would overflow the database.
_MAX_KEY = 2**63 - 1


def cursor_encode(value: int) -> str:
    """The opaque cursor for a key value."""
    return base64.urlsafe_b64encode(str(value).encode("ascii")).decode("ascii").rstrip("=")


def cursor_decode(cursor: str | None) -> int | None:
    """The key value behind a cursor (``None`` for no cursor). Anything that did not come from
    :func:`cursor_encode` is a 422 with field ``cursor`` and code ``invalid_cursor``."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not text.isdigit():  # no sign, no spaces, no underscores
            raise ValueError(text)
        value = int(text)
        if value > _MAX_KEY:
            raise ValueError(text)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            errors=[field_error("cursor", "invalid_cursor", T("分页游标无效。", "Invalid cursor."))]
        ) from None
    return value


def keyset_page(
    qs: QuerySet,
    *,
    cursor: str | None,
    limit: int,
    max_limit: int = 100,
    descending: bool = True,
    key: str = "pk",
) -> tuple[list[Any], str | None]:
    """One page of ``qs`` ordered by ``key`` (newest first unless ``descending=False``), starting
    after ``cursor``. ``limit`` is clamped to ``1..max_limit``. Returns the rows and the cursor of
    the next page, or ``None`` when this is the last one."""
    limit = max(1, min(limit, max_limit))
    after = cursor_decode(cursor)
    if after is not None:
        qs = qs.filter(**{f"{key}__lt" if descending else f"{key}__gt": after})
    rows = list(qs.order_by(f"-{key}" if descending else key)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (cursor_encode(getattr(rows[-1], key)) if more else None)
