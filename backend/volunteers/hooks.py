"""Listeners that follow sign-ups (event passes follow confirmed volunteer sign-ups).

Contract:

- ``on_signup_changed(listener)`` registers ``listener(signup)``; it returns the listener, so it
  also works as a decorator. Register from your AppConfig.ready(); registering the same callable
  twice is a no-op.
- The volunteers services call ``signup_changed(signup)`` INSIDE their transaction after every
  status change of a sign-up (created confirmed/waitlisted, promoted, promotion confirmed or
  expired, cancelled, no-show, attended). ``signup.status`` is already the new status and saved.
  Use ``signup.holds_pass`` (status in ``Signup.CONFIRMED_STATUSES``: confirmed, attended) to
  decide whether a pass should exist. A listener's exception rolls the change back, so listeners
  must only do their own database work (no network); broadcasts go in ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[Any], None]
_listeners: list[Listener] = []


def on_signup_changed(listener: Listener) -> Listener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def remove_signup_listener(listener: Listener) -> None:
    """For tests: forget a listener registered with ``on_signup_changed``."""
    if listener in _listeners:
        _listeners.remove(listener)


def signup_changed(signup: Any) -> None:
    for listener in list(_listeners):
        listener(signup)
