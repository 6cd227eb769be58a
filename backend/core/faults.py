"""What a client gets when a part the server depends on is away.

``fault_error(exc)`` turns an exception from the database or the media storage into a domain
error (or ``None`` for a genuine bug):

- the database cannot be reached (connection refused, the pool's bounded wait
  ``LINLI_DB_POOL_TIMEOUT`` spent, a dropped connection): 503 ``service_unavailable`` with
  ``Retry-After``;
- the media directory refuses a write (permissions, read-only, disk full): 503
  ``storage_unavailable`` with ``Retry-After``. Services write files before they commit, so
  nothing is half-written.

The API's error handler (``api.errors``) and the websocket consumers use it.
"""

from __future__ import annotations

import errno

from django.db import InterfaceError, OperationalError

from backend.core.errors import DomainError, ServiceUnavailable
from backend.core.i18n import T

DATABASE_RETRY_AFTER = 5
STORAGE_RETRY_AFTER = 30

_STORAGE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class DatabaseUnavailable(ServiceUnavailable):
    """503 ``service_unavailable``: the database is away (the code every client already knows)."""

    retry_after = DATABASE_RETRY_AFTER


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"
    message = T(
        "文件存储暂时不可用，请稍后再试。", "File storage is temporarily unavailable. Please try again later."
    )
    retry_after = STORAGE_RETRY_AFTER


def is_database_away(exc: BaseException) -> bool:
    """An error of reaching the database, as opposed to one of the query (constraint, syntax)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc).lower()
    # SQLite's "database is locked" is a busy writer, not an absent database.
    return "locked" not in text and "no such table" not in text


def fault_error(exc: BaseException) -> DomainError | None:
    if is_database_away(exc):
        return DatabaseUnavailable(retry_after=DATABASE_RETRY_AFTER)
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return StorageUnavailable(retry_after=STORAGE_RETRY_AFTER)
    return None
