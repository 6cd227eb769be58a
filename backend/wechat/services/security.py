"""Content security: texts and images that others will see go through WeChat's checks.

Texts (``msg_sec_check`` v2, with the author's openid): ``risky`` is refused at once (422
``content_rejected`` naming the field), ``review`` is accepted and flagged for staff, and when
WeChat cannot be reached the text is accepted and checked later by a job: nothing blocks on
WeChat and nothing fails because of it. Authors without a WeChat identity (the apps' Firebase
users) cannot be checked by WeChat, whose check needs the author's openid; their texts are
accepted as they are.

Images (``media_check_async``): WeChat downloads the image from a signed URL under
``LINLI_PUBLIC_HOST`` and pushes the verdict to ``POST /api/v1/wechat/callback`` later. A risky
image is hidden from everyone but staff, and its owner is told. The owning domains read it when
they show images (``selectors.hidden_media`` for a list of names, ``selectors.media_hidden`` as
a queryset annotation); ``image_rejected`` lets a domain act at the moment of the verdict. An
image uploaded by someone without a WeChat identity cannot be checked: it is recorded as
``unchecked`` for staff and stays visible.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.core.hooks import Hook
from backend.core.signed_urls import signed_url
from backend.notifications.services import notify
from backend.wechat import client, conf, http
from backend.wechat.errors import (
    CallbackSignatureInvalid,
    ContentRejected,
    WeChatNotConfigured,
    WeChatUnavailable,
)
from backend.wechat.models import ContentCheck
from backend.wechat.selectors import openid_of

log = logging.getLogger("linli.wechat")

MAX_CHARS = 2500
MAX_ATTEMPTS = 12


class Scene(IntEnum):
    PROFILE = 1
    COMMENT = 2
    FORUM = 3
    SOCIAL_LOG = 4


#: ``(check: ContentCheck) -> None``: a domain hides the image WeChat found risky.
image_rejected: Hook[Callable[[ContentCheck], None]] = Hook("wechat.image_rejected")


@dataclass
class TextCheck:
    """The verdicts of one request's texts, kept against the object once it is saved."""

    rows: list[ContentCheck] = field(default_factory=list)

    def attach(self, target: models.Model) -> None:
        """Inside the saving transaction: remember what staff must look at or a job must check."""
        if not self.rows:
            return
        target_type = ContentType.objects.get_for_model(target)
        for row in self.rows:
            row.target_type = target_type
            row.target_id = str(target.pk)
        ContentCheck.objects.bulk_create(self.rows)

    @property
    def flagged(self) -> list[str]:
        return [row.field for row in self.rows if row.status == ContentCheck.Status.REVIEW]


ImageCheck = ContentCheck


def _chunks(text: str) -> list[str]:
    return [text[i : i + MAX_CHARS] for i in range(0, len(text), MAX_CHARS)] or [""]


def _verdict(*, openid: str, scene: int, text: str) -> client.Verdict:
    """The worst verdict over the text's 2,500-character pieces."""
    worst = client.Verdict(suggest="pass", label=None, trace_id="")
    order = {"pass": 0, "review": 1, "risky": 2}
    for piece in _chunks(text):
        verdict = client.msg_sec_check(openid=openid, scene=scene, content=piece)
        if order.get(verdict.suggest, 1) > order.get(worst.suggest, 0):
            worst = verdict
    return worst


def text_check(*, author: User | None, texts: dict[str, str | None], scene: int = Scene.FORUM) -> TextCheck:
    """Check the fields others will see; raise ``ContentRejected`` for the first risky one."""
    check = TextCheck()
    if not conf.configured():
        return check
    openid = openid_of(author)
    if not openid:
        return check
    for name, text in texts.items():
        if not text or not text.strip():
            continue
        try:
            verdict = _verdict(openid=openid, scene=int(scene), text=text)
        except (http.WeChatError, http.Unreachable, WeChatUnavailable, WeChatNotConfigured) as exc:
            log.warning("text check of %s deferred: %s", name, exc)
            check.rows.append(_row(ContentCheck.Kind.TEXT, name, author, scene, text=text))
            continue
        if verdict.suggest == "risky":
            raise ContentRejected(field=name, label=verdict.label)
        if verdict.suggest == "review":
            check.rows.append(
                _row(
                    ContentCheck.Kind.TEXT,
                    name,
                    author,
                    scene,
                    status=ContentCheck.Status.REVIEW,
                    verdict=verdict,
                )
            )
    return check


def _row(
    kind: str,
    name: str,
    author: User | None,
    scene: int,
    *,
    text: str = "",
    status: str = ContentCheck.Status.PENDING,
    verdict: client.Verdict | None = None,
) -> ContentCheck:
    return ContentCheck(
        kind=kind,
        field=name,
        author=author,
        scene=int(scene),
        text=text,
        status=status,
        label=verdict.label if verdict else None,
        trace_id=verdict.trace_id if verdict else "",
        checked_at=timezone.now() if verdict else None,
    )


def text_checks_retry(*, limit: int = 200) -> int:
    """Job: check the texts that were accepted while WeChat could not be reached."""
    if not conf.configured():
        return 0
    done = 0
    for row in ContentCheck.objects.filter(
        kind=ContentCheck.Kind.TEXT, status=ContentCheck.Status.PENDING
    ).order_by("pk")[:limit]:
        openid = openid_of(row.author)
        try:
            verdict = _verdict(openid=openid, scene=row.scene, text=row.text) if openid else None
        except (http.WeChatError, http.Unreachable, WeChatUnavailable) as exc:
            log.warning("text check %s still deferred: %s", row.pk, exc)
            attempts = row.attempts + 1
            # After many failures a person looks at it instead.
            waiting = ContentCheck.Status.REVIEW if attempts >= MAX_ATTEMPTS else ContentCheck.Status.PENDING
            ContentCheck.objects.filter(pk=row.pk).update(attempts=attempts, status=waiting)
            continue
        status = str(ContentCheck.Status.UNCHECKED) if verdict is None else verdict.suggest
        ContentCheck.objects.filter(pk=row.pk).update(
            status=status,
            label=verdict.label if verdict else None,
            trace_id=verdict.trace_id if verdict else "",
            checked_at=timezone.now(),
            attempts=row.attempts + 1,
            text="" if status in (ContentCheck.Status.PASS, ContentCheck.Status.UNCHECKED) else row.text,
        )
        done += 1
    return done


# --- images ------------------------------------------------------------------------------------


def image_check_start(
    *, owner: User | None, media: str, target: models.Model, field: str, scene: int = Scene.FORUM
) -> ContentCheck | None:
    """Inside the transaction that stored the image: queue its check, sent to WeChat after commit.

    WeChat checks an image for the openid of whoever uploaded it; an upload by someone without a
    WeChat identity (an app user) cannot be checked and stays visible. It is recorded as
    ``unchecked``, so staff can find such images in the admin ("Content checks")."""
    if not conf.configured() or not media:
        return None
    checkable = bool(openid_of(owner))
    row = ContentCheck.objects.create(
        kind=ContentCheck.Kind.IMAGE,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        field=field,
        author=owner,
        scene=int(scene),
        media=media,
        status=ContentCheck.Status.PENDING if checkable else ContentCheck.Status.UNCHECKED,
    )
    if checkable:
        transaction.on_commit(lambda: image_check_send(check_id=row.pk))
    return row


def image_check_send(*, check_id: int) -> bool:
    """Hand one image to WeChat; a failure leaves it for the retry job."""
    row = ContentCheck.objects.select_related("author").filter(pk=check_id, trace_id="").first()
    if row is None:
        return False
    openid = openid_of(row.author)
    try:
        trace_id = client.media_check_async(
            openid=openid, scene=row.scene, media_url=signed_url(row.media, ttl=conf.media_check_url_ttl())
        )
    except (http.WeChatError, http.Unreachable, WeChatUnavailable, WeChatNotConfigured) as exc:
        log.warning("image check %s not started: %s", check_id, exc)
        ContentCheck.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
        return False
    ContentCheck.objects.filter(pk=row.pk).update(trace_id=trace_id, attempts=row.attempts + 1)
    return True


def image_checks_retry(*, limit: int = 200) -> int:
    """Job: send the images that could not be handed to WeChat when they were stored."""
    if not conf.configured():
        return 0
    ids = ContentCheck.objects.filter(
        kind=ContentCheck.Kind.IMAGE,
        status=ContentCheck.Status.PENDING,
        trace_id="",
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)[:limit]
    return sum(image_check_send(check_id=pk) for pk in ids)


def callback_signature_ok(*, signature: str, timestamp: str, nonce: str) -> bool:
    token = conf.msg_token()
    if not token or not signature:
        return False
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return hmac.compare_digest(expected, signature)


def callback_verify(*, signature: str, timestamp: str, nonce: str) -> None:
    if not callback_signature_ok(signature=signature, timestamp=timestamp, nonce=nonce):
        raise CallbackSignatureInvalid()


def image_verdict_receive(*, signature: str, timestamp: str, nonce: str, body: bytes) -> str:
    """``POST /wechat/callback``: a signed message push. An image verdict is applied; other
    events are acknowledged and ignored. Returns what happened, for the log."""
    callback_verify(signature=signature, timestamp=timestamp, nonce=nonce)
    try:
        message: Any = json.loads(body or b"{}")
    except ValueError:
        return "ignored: not JSON"
    if not isinstance(message, dict) or message.get("Event") != "wxa_media_check":
        return "ignored"
    trace_id = str(message.get("trace_id") or "")
    result = message.get("result") or {}
    suggest = str(result.get("suggest") or "")
    if suggest not in ("pass", "review", "risky"):
        return "ignored: no verdict"
    with transaction.atomic():
        row = (
            ContentCheck.objects.select_for_update()
            .filter(kind=ContentCheck.Kind.IMAGE, trace_id=trace_id)
            .first()
        )
        if row is None:
            return "ignored: unknown trace_id"
        if row.status != ContentCheck.Status.PENDING:
            return "duplicate"
        label = str(result.get("label", ""))
        row.status = suggest
        row.label = int(label) if label.lstrip("-").isdigit() else None
        row.checked_at = timezone.now()
        row.save(update_fields=["status", "label", "checked_at"])
        if suggest == "risky":
            _image_rejected(row)
    return suggest


def _image_rejected(row: ContentCheck) -> None:
    image_rejected.call_all(row)
    if row.author_id is not None:
        notify(user=row.author_id, kind="wechat.image_rejected", params={"field": row.field}, target=row)


def content_check_resolve(*, check: ContentCheck, by: User) -> ContentCheck:
    """Staff have looked at a flagged text or image."""
    ContentCheck.objects.filter(pk=check.pk).update(resolved_at=timezone.now(), resolved_by=by)
    check.refresh_from_db()
    return check
