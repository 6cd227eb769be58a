"""The access token: one for every process, fetched by one process at a time.

WeChat's ``stable_token`` gives the app one token for 7,200 s (a new one in its last 5 minutes,
the old one still valid meanwhile). Linli keeps it in the database (sealed; every process and
worker sees it) with the cache in front. When it is missing or close to expiry, one process
takes a short lease on the row, fetches, stores and releases; the others wait for the row to
change instead of asking WeChat themselves, so two processes starting at once fetch it once. No
database transaction is held while WeChat answers (on SQLite that would stop every writer).

On 40001/42001 the caller asks for a forced refresh, naming the token that failed: if another
process already replaced it, the new one is used; otherwise one forced refresh (WeChat allows
20 a day, 30 s apart) and the caller retries once. Past those limits the normal token is asked
for again; if WeChat still hands out the failed one, the call is unavailable for now.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.core.crypto import seal, unseal
from backend.core.db import run_retrying
from backend.wechat import conf, http
from backend.wechat.errors import WeChatNotConfigured, WeChatUnavailable
from backend.wechat.models import AccessToken

log = logging.getLogger("linli.wechat")

LEASE_SECONDS = 20
WAIT_STEP = 0.1


def _cache_key() -> str:
    return f"wechat:token:{conf.app_id()}"


def _fresh(row: AccessToken, now: datetime) -> bool:
    return (
        bool(row.token)
        and row.expires_at is not None
        and row.expires_at - now > timedelta(seconds=conf.token_margin())
    )


def _remember(token: str, expires_at: datetime) -> None:
    ttl = (expires_at - timezone.now()).total_seconds() - conf.token_margin()
    if ttl > 1:
        cache.set(_cache_key(), (token, expires_at.timestamp()), int(ttl))


def access_token() -> str:
    """A token valid for at least ``WECHAT_TOKEN_MARGIN`` more seconds."""
    if not conf.configured():
        raise WeChatNotConfigured()
    cached = cache.get(_cache_key())
    if cached and cached[1] - time.time() > conf.token_margin():
        return cached[0]
    row = AccessToken.objects.filter(appid=conf.app_id()).first()
    if row is not None and _fresh(row, timezone.now()):
        token = unseal(row.token, purpose="wechat.access_token")
        _remember(token, row.expires_at)  # type: ignore[arg-type]
        return token
    return _refresh(stale=None)


def access_token_refresh(*, failed: str) -> str:
    """WeChat said ``failed`` is invalid or expired: a token other than it, forced if need be."""
    if not conf.configured():
        raise WeChatNotConfigured()
    cache.delete(_cache_key())
    return _refresh(stale=failed)


def _row() -> AccessToken:
    try:
        row, _ = AccessToken.objects.get_or_create(appid=conf.app_id())
    except IntegrityError:
        row = AccessToken.objects.get(appid=conf.app_id())
    return row


def _usable(row: AccessToken, now: datetime, stale: str | None) -> str | None:
    if not _fresh(row, now):
        return None
    token = unseal(row.token, purpose="wechat.access_token")
    return token if token != stale else None


def _claim(stale: str | None) -> tuple[str | None, bool]:
    """``(token, False)`` when a usable one is stored, ``(None, True)`` when this process took the
    lease to fetch one, ``(None, False)`` when another process holds it."""
    now = timezone.now()
    row = _row()
    token = _usable(row, now, stale)
    if token is not None:
        return token, False
    taken = AccessToken.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=row.pk
    ).update(lease_until=now + timedelta(seconds=LEASE_SECONDS))
    return None, bool(taken)


def _may_force(row: AccessToken, now: datetime) -> bool:
    today = timezone.localdate(now)
    used = row.forced_count if row.forced_on == today else 0
    recent = row.forced_at is not None and (now - row.forced_at).total_seconds() < conf.forced_refresh_gap()
    return used < conf.forced_refresh_per_day() and not recent


def _fetch_and_store(stale: str | None) -> str:
    row = AccessToken.objects.get(appid=conf.app_id())
    now = timezone.now()
    force = stale is not None and _may_force(row, now)
    try:
        token, expires_in = http.stable_token(force_refresh=force)
    except (http.WeChatError, http.Unreachable):
        AccessToken.objects.filter(pk=row.pk).update(lease_until=None)
        raise
    if token == stale:
        AccessToken.objects.filter(pk=row.pk).update(lease_until=None)
        log.error("WeChat handed out the token it had just refused; forced refresh used up for now")
        raise WeChatUnavailable()
    expires_at = now + timedelta(seconds=expires_in)
    today = timezone.localdate(now)
    updates: dict = {
        "token": seal(token, purpose="wechat.access_token"),
        "expires_at": expires_at,
        "fetched_at": now,
        "lease_until": None,
    }
    if force:
        updates.update(
            forced_on=today,
            forced_count=(row.forced_count if row.forced_on == today else 0) + 1,
            forced_at=now,
        )
    with transaction.atomic():
        AccessToken.objects.filter(pk=row.pk).update(fetches=F("fetches") + 1, **updates)
    _remember(token, expires_at)
    return token


def _refresh(*, stale: str | None) -> str:
    deadline = time.monotonic() + LEASE_SECONDS + 1
    while True:
        token, claimed = run_retrying(lambda: _claim_in_transaction(stale))
        if token is not None:
            _remember(token, AccessToken.objects.get(appid=conf.app_id()).expires_at)  # type: ignore[arg-type]
            return token
        if claimed:
            return _fetch_and_store(stale)
        if time.monotonic() > deadline:
            raise WeChatUnavailable()
        time.sleep(WAIT_STEP)


def _claim_in_transaction(stale: str | None) -> tuple[str | None, bool]:
    with transaction.atomic():
        return _claim(stale)
