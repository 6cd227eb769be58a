"""The volunteer's private calendar address: created on first request, replaced on demand."""

from __future__ import annotations

import base64
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.audit import audit_record
from backend.core.crypto import blind_index, seal
from backend.volunteers.models import CALENDAR_PURPOSE, CalendarFeed


def calendar_token_new() -> str:
    """160 random bits as lower-case base32 (URL- and case-safe)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()


def calendar_feed_ensure(*, user: User) -> tuple[CalendarFeed, str]:
    """The user's feed and its token, creating them on first use (two first requests at once
    end with the same feed)."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        return feed, ""
    token = calendar_token_new()
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(
                user=user,
                token_sealed=seal(token, purpose=CALENDAR_PURPOSE),
                token_index=blind_index(token, purpose=CALENDAR_PURPOSE),
                created_at=timezone.now(),
            )
            audit_record(actor=user, action="calendar_feed.created", target=feed)
    except IntegrityError:
        return CalendarFeed.objects.get(user=user), ""
    return feed, token


def calendar_feed_renew(*, user: User) -> tuple[CalendarFeed, str]:
    """A new token for the user's feed: the old address answers 404 from now on."""
    token = calendar_token_new()
    fields = {
        "token_sealed": seal(token, purpose=CALENDAR_PURPOSE),
        "token_index": blind_index(token, purpose=CALENDAR_PURPOSE),
        "created_at": timezone.now(),
    }
    with transaction.atomic():
        feed, created = CalendarFeed.objects.update_or_create(user=user, defaults=fields)
        audit_record(actor=user, action="calendar_feed.renewed", target=feed, data={"first": created})
    return feed, token
