"""Scans: the one redeem every scan goes through, and the upload of a scanner's queue.

``checkin_redeem`` serves the scanner websocket, the HTTP fallback, the offline upload and the
end-of-event checkout alike (as pretix's ``perform_checkin`` serves all of its callers). It
checks the pass secret's signature before touching the database, then, in one transaction with
the pass row locked: replays the first answer for a known nonce, decides
(``backend.checkin.redeem.decide``), records the numbered row with the counters, presence and
the pass's stay (``backend.checkin.redeem.store``), feeds a volunteer's ended stay into service
hours, and broadcasts the row to the event's dashboards after commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from backend.checkin import conf
from backend.checkin.errors import (
    DeviceRevoked,
    InvalidRedeem,
    ListNotOfEvent,
    NonceReused,
    UnknownDevice,
    UploadTooLarge,
)
from backend.checkin.models import Checkin, Pass
from backend.checkin.redeem import store
from backend.checkin.redeem.decide import Scan, decide, same_scan
from backend.checkin.redeem.messages import DEVICE_MAX, Redeem, RedeemResult, redeem_parse
from backend.checkin.selectors import checkin_feed_message, group_name
from backend.core import keys
from backend.core.errors import DomainError
from backend.core.i18n import ZH
from backend.core.signed_tokens import TokenError
from backend.runtime.broadcast import publish_after_commit
from backend.volunteers.models import ServiceRecord
from backend.volunteers.services import attendance_record

log = logging.getLogger("linli.checkin")


def checkin_redeem(
    *,
    event_id: int,
    redeem: Redeem,
    scanner: Any = None,
    device: str = "",
    source: str = Checkin.Source.SOCKET,
    received_at: datetime | None = None,
) -> RedeemResult:
    """Decide and record one scan. Refused scans are recorded too; a known nonce replays.

    A redeem by ``pass_id`` (a pass found by the door search) is the redeem of that pass's
    current secret: the same checks, decision and row; an id that is not a pass of this event
    is recorded as ``invalid``."""
    secret = redeem.secret if redeem.pass_id is None else _current_secret(event_id, redeem.pass_id)
    token_hex, valid_until = _verify(secret)  # the signature before any query
    received = received_at or timezone.now()
    scan = Scan(
        kind=redeem.kind,
        at=min(redeem.scanned_at, received),  # a scanner clock running ahead is not believed
        list_id=redeem.list_id,
        nonce=redeem.nonce,
        valid_until=valid_until,
        forced=redeem.forced,
    )
    try:
        with transaction.atomic():
            return _record_scan(
                event_id=event_id,
                redeem=redeem,
                scan=scan,
                token_hex=token_hex,
                received=received,
                late=(received - redeem.scanned_at).total_seconds() > conf.late_after_seconds(),
                scanner=scanner,
                device=device[:DEVICE_MAX],
                source=source,
            )
    except IntegrityError:
        # The same nonce committed by a concurrent request between our check and our insert.
        existing = store.checkin_by_nonce(event_id=event_id, nonce=redeem.nonce)
        if existing is None:
            raise
        return _replay(
            existing, pass_id=store.pass_id_named(event_id=event_id, token_hex=token_hex), redeem=redeem
        )


def _replay(row: Checkin, *, pass_id: int | None, redeem: Redeem) -> RedeemResult:
    """The recorded answer for a repeated scan; a nonce reused for another scan is refused."""
    if not same_scan(
        recorded_pass_id=row.pass_obj_id, recorded_kind=row.kind, pass_id=pass_id, kind=redeem.kind
    ):
        raise NonceReused(nonce=redeem.nonce)
    return RedeemResult(row=row, replayed=True)


def _current_secret(event_id: int, pass_id: int) -> str:
    found = Pass.objects.filter(pk=pass_id, event_id=event_id).values_list("secret", flat=True).first()
    return found or ""


def _verify(secret: str) -> tuple[str | None, date | None]:
    """(token id hex, last valid day) of a genuine pass secret, or (None, None): no database access."""
    if not secret:
        return None, None
    try:
        # Expiry is judged against the scan time (an offline scan uploaded late still counts).
        payload = keys.token_verify(purpose="pass", token=secret.strip(), check_expiry=False)
    except (TokenError, ValueError):
        return None, None
    return payload.token_id.hex(), payload.expires_day


def _record_scan(
    *,
    event_id: int,
    redeem: Redeem,
    scan: Scan,
    token_hex: str | None,
    received: datetime,
    late: bool,
    scanner: Any,
    device: str,
    source: str,
) -> RedeemResult:
    """Inside the transaction: read with the pass locked, decide, record, announce after commit."""
    recorder = scanner if getattr(scanner, "is_authenticated", False) else None
    with connections[Checkin.objects.db].cursor() as cursor:
        registered = store.scan_device(cursor, event_id=event_id, device_id=redeem.device_id)
        loaded = store.scan_load(cursor, event_id=event_id, token_hex=token_hex, nonce=redeem.nonce)
        if loaded.replay is not None:
            return _replay(
                loaded.replay,
                pass_id=loaded.pass_obj.pk if loaded.pass_obj is not None else None,
                redeem=redeem,
            )
        decision = decide(scan=scan, holder=loaded.holder, lists=loaded.lists, window=loaded.window)
        if decision.stay is not None and decision.stay.ended and loaded.pass_obj is not None:
            _stay_ended(pass_obj=loaded.pass_obj, checked_out_at=scan.at, recorder=recorder)
        row = store.scan_record(
            cursor,
            event_id=event_id,
            redeem=redeem,
            decision=decision,
            pass_obj=loaded.pass_obj,
            received=received,
            late=late,
            scanner_id=recorder.pk if recorder is not None else None,
            device=device,
            source=source,
            registered=registered,
        )
    _broadcast(row)
    return RedeemResult(row=row)


def _stay_ended(*, pass_obj: Pass, checked_out_at: datetime, recorder: Any) -> None:
    """A volunteer's stay (first entry to last exit) becomes a service record."""
    if pass_obj.inside_since is None or pass_obj.stay_seq is None:
        return
    stay_record(
        pass_obj=pass_obj,
        stay_seq=pass_obj.stay_seq,
        start=pass_obj.inside_since,
        end=checked_out_at,
        recorder=recorder,
    )


def stay_ref(pass_obj: Pass, stay_seq: int) -> str:
    """The service record's reference of one stay: its pass and the seq of its first entry."""
    return f"checkin:{pass_obj.event_id}:{pass_obj.pk}:{stay_seq}"


def stay_record(*, pass_obj: Pass, stay_seq: int, start: datetime, end: datetime, recorder: Any) -> None:
    """The service record of one ended stay of a volunteer's pass (none for an attendee's)."""
    if pass_obj.signup_id is None:
        return
    signup = pass_obj.signup
    if signup is None:
        return
    try:
        with transaction.atomic():  # a refused record must not undo the scan
            attendance_record(
                signup=signup,
                checked_in_at=start,
                checked_out_at=end,
                recorder=recorder,
                external_ref=stay_ref(pass_obj, stay_seq),
                source=ServiceRecord.Source.CHECKIN,
            )
    except DomainError as error:
        log.warning("no service record for pass %s: %s", pass_obj.pk, error.error_code)


def _broadcast(row: Checkin) -> None:
    """After commit, hand the encoded feed message to the event's dashboards without waiting for
    delivery (``backend.runtime.broadcast``): a busy event loop must not hold up the next scan."""
    text = json.dumps(checkin_feed_message(row), ensure_ascii=False, separators=(",", ":"))
    publish_after_commit(group_name(row.event_id), {"type": "checkin.recorded", "seq": row.seq, "text": text})


def checkin_upload(
    *,
    event_id: int,
    items: Sequence[dict[str, Any]],
    scanner: Any = None,
    device: str = "",
    device_id: int | None = None,
    lang: str = ZH,
) -> list[dict[str, Any]]:
    """A queue of redeems from one scanner (offline upload or HTTP fallback): processed in scan
    order, each in its own transaction, idempotent by nonce. Returns one result per item, in the
    order processed; a malformed item (or a nonce reused for another scan) gets an ``error``
    entry, its message in ``lang``, and does not stop the others.
    ``device_id`` (a registered device) applies to items that name none; a revoked or unknown
    device refuses the whole upload before any item is recorded."""
    if len(items) > conf.upload_max_items():
        raise UploadTooLarge(max=conf.upload_max_items(), got=len(items))
    if device_id is not None:
        with connections[Checkin.objects.db].cursor() as cursor:
            store.scan_device(cursor, event_id=event_id, device_id=device_id)
    received = timezone.now()
    parsed: list[tuple[datetime, int, Redeem | None, dict[str, Any]]] = []
    for index, item in enumerate(items):
        try:
            redeem = redeem_parse(item if isinstance(item, dict) else {})
            if redeem.device_id is None and device_id is not None:
                redeem = replace(redeem, device_id=device_id)
        except InvalidRedeem as error:
            parsed.append((received, index, None, {"type": "error", "index": index, **error.body(lang)}))
            continue
        parsed.append((redeem.scanned_at, index, redeem, {}))
    parsed.sort(key=lambda entry: (entry[0], entry[1]))
    results = []
    for _, index, item_redeem, failure in parsed:
        if item_redeem is None:
            results.append(failure)
            continue
        try:
            result = checkin_redeem(
                event_id=event_id,
                redeem=item_redeem,
                scanner=scanner,
                device=device,
                source=Checkin.Source.HTTP,
                received_at=received,
            )
        except (ListNotOfEvent, NonceReused, UnknownDevice, DeviceRevoked) as exc:
            results.append({"type": "error", "index": index, "nonce": item_redeem.nonce, **exc.body(lang)})
            continue
        results.append({**result.message(), "index": index})
    return results
