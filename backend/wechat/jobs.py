"""Scheduled work of the WeChat platform: the content checks WeChat could not take at once."""

from __future__ import annotations

from datetime import timedelta

from backend.notifications.scheduler import Job
from backend.wechat.services.security import image_checks_retry, text_checks_retry


def _texts() -> dict:
    return {"checked": text_checks_retry()}


def _images() -> dict:
    return {"sent": image_checks_retry()}


JOBS = [
    Job(name="wechat.text_checks_retry", every=timedelta(minutes=5), func=_texts),
    Job(name="wechat.image_checks_retry", every=timedelta(minutes=5), func=_images),
]
