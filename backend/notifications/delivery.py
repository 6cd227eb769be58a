"""Delivery of notifications to devices (push). The outbox row is the source of truth; push is
best effort on top of it, scheduled after the causing transaction commits."""

from __future__ import annotations

from backend.notifications.models import Notification


def schedule(notification: Notification) -> None:
    """Hook called by ``notify`` inside the causing transaction; push delivery plugs in here."""
    return None
