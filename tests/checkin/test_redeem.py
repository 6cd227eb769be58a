"""The redeem service: every reason, idempotency by nonce, entry/exit rules, counts, sequence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.checkin import services
from backend.checkin.errors import InvalidRedeem
from backend.checkin.models import Checkin, CheckinList, EventSequence, Pass, Presence
from backend.core import keys
from backend.core.models import AppendOnlyError
from backend.core.signed_tokens import new_token_id
from tests.checkin import factories as f

pytestmark = pytest.mark.django_db


def test_first_entry_is_ok():
    ev = f.event()
    p = f.attendee(ev, "王小明")
    result = f.redeem(ev, p.secret)
    msg = result.message()
    assert msg["status"] == "ok" and "reason" not in msg
    assert msg["pass"] == {"name": "王*明", "kind": "attendee"}
    assert msg["checked_in_at"] is not None and msg["seq"] == 1
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.last_seq, seq.checked_in, seq.inside) == (1, 1, 1)


def test_second_entry_is_already_redeemed():
    ev = f.event()
    p = f.attendee(ev)
    first = f.redeem(ev, p.secret).message()
    second = f.redeem(ev, p.secret).message()
    assert second["status"] == "error" and second["reason"] == "already_redeemed"
    assert second["checked_in_at"] == first["checked_in_at"]
    assert EventSequence.objects.get(pk=ev.pk).checked_in == 1
    assert Checkin.objects.filter(event=ev).count() == 2


def test_same_nonce_twice_writes_one_row_and_replays_the_first_answer():
    ev = f.event()
    p = f.attendee(ev)
    first = f.redeem(ev, p.secret, nonce="nonce-0001")
    again = f.redeem(ev, p.secret, nonce="nonce-0001")
    assert again.replayed and again.row.pk == first.row.pk
    assert again.message()["status"] == "ok"
    assert Checkin.objects.filter(event=ev).count() == 1
    assert EventSequence.objects.get(pk=ev.pk).last_seq == 1


def test_entry_exit_entry_allowed_after_exit_by_default():
    ev = f.event()
    p = f.attendee(ev)
    assert f.redeem(ev, p.secret).message()["status"] == "ok"
    assert f.redeem(ev, p.secret, kind="exit").message()["status"] == "ok"
    assert EventSequence.objects.get(pk=ev.pk).inside == 0
    assert f.redeem(ev, p.secret).message()["status"] == "ok"
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.checked_in, seq.inside) == (1, 1)


def test_entry_after_exit_refused_when_the_list_forbids_it():
    ev = f.event()
    lst = ev.lists.get()
    CheckinList.objects.filter(pk=lst.pk).update(allow_entry_after_exit=False)
    p = f.attendee(ev)
    f.redeem(ev, p.secret)
    f.redeem(ev, p.secret, kind="exit")
    assert f.redeem(ev, p.secret).message()["reason"] == "already_redeemed"


def test_multiple_entries_allowed_when_the_list_says_so():
    ev = f.event()
    CheckinList.objects.filter(event=ev).update(allow_multiple_entries=True)
    p = f.attendee(ev)
    assert f.redeem(ev, p.secret).message()["status"] == "ok"
    assert f.redeem(ev, p.secret).message()["status"] == "ok"
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.checked_in, seq.inside) == (1, 1)
    assert Presence.objects.get(pass_obj=p).entries == 2


def test_exit_without_entry_is_recorded_and_changes_no_count():
    ev = f.event()
    p = f.attendee(ev)
    msg = f.redeem(ev, p.secret, kind="exit").message()
    assert msg["status"] == "ok" and msg["checked_in_at"] is None
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.last_seq, seq.checked_in, seq.inside) == (1, 0, 0)
    assert not Presence.objects.filter(pass_obj=p).exists()
    # ... and the pass can still enter afterwards.
    assert f.redeem(ev, p.secret).message()["status"] == "ok"


def test_voided_pass_is_revoked():
    ev = f.event()
    p = f.attendee(ev)
    services.pass_void(pass_obj=p)
    msg = f.redeem(ev, p.secret).message()
    assert msg["reason"] == "revoked" and msg["pass"]["kind"] == "attendee"


def test_reissued_pass_old_secret_is_revoked_new_one_works():
    ev = f.event()
    p = f.attendee(ev)
    old = p.secret
    p = services.pass_reissue(pass_obj=p)
    assert p.secret != old
    assert f.redeem(ev, old).message()["reason"] == "revoked"
    assert f.redeem(ev, p.secret).message()["status"] == "ok"


def test_forged_secret_is_invalid_and_recorded_without_pass():
    ev = f.event()
    p = f.attendee(ev)
    forged = p.secret[:-4] + ("AAAA" if not p.secret.endswith("AAAA") else "BBBA")
    msg = f.redeem(ev, forged).message()
    assert msg["status"] == "error" and msg["reason"] == "invalid" and msg["pass"] is None
    assert f.redeem(ev, "not a pass at all").message()["reason"] == "invalid"
    assert Checkin.objects.filter(event=ev, reason="invalid", pass_obj__isnull=True).count() == 2


def test_genuine_secret_of_another_event_is_invalid():
    ev, other = f.event(), f.event()
    p = f.attendee(other)
    assert f.redeem(ev, p.secret).message()["reason"] == "invalid"


def test_signed_but_unknown_pass_is_invalid():
    ev = f.event()
    today = timezone.localdate()
    secret = keys.token_sign(
        purpose="pass", token_id=new_token_id(), issued=today, expires=today + timedelta(days=1)
    )
    assert f.redeem(ev, secret).message()["reason"] == "invalid"


def test_entry_outside_the_window_is_invalid_time():
    ev = f.event(opens_in=timedelta(hours=2), starts_at=timezone.now() + timedelta(hours=3))
    p = f.attendee(ev)
    assert f.redeem(ev, p.secret).message()["reason"] == "invalid_time"
    # An exit is never refused for the time: people must be able to leave.
    assert f.redeem(ev, p.secret, kind="exit").message()["status"] == "ok"


def test_offline_scan_made_inside_the_window_counts_even_if_uploaded_after():
    now = timezone.now()
    ev = f.event(starts_at=now - timedelta(hours=5), hours=4, checkin_opens_at=now - timedelta(hours=6))
    p = f.attendee(ev)
    inside_window = now - timedelta(hours=2)
    msg = f.redeem(ev, p.secret, scanned_at=inside_window).message()
    assert msg["status"] == "ok" and msg["late"] is True


def test_blocked_pass_is_refused():
    ev = f.event()
    p = f.attendee(ev)
    services.pass_block(pass_obj=p, blocked=True)
    assert f.redeem(ev, p.secret).message()["reason"] == "blocked"
    services.pass_block(pass_obj=p, blocked=False)
    assert f.redeem(ev, p.secret).message()["status"] == "ok"


def test_two_matching_lists_without_a_choice_is_ambiguous():
    ev = f.event()
    vip = services.checkin_list_create(event=ev, name="VIP", include_volunteers=False)
    p = f.attendee(ev)
    assert f.redeem(ev, p.secret).message()["reason"] == "ambiguous"
    msg = f.redeem(ev, p.secret, list=vip.pk).message()
    assert msg["status"] == "ok" and msg["list"] == vip.pk


def test_pass_not_on_the_chosen_list():
    ev = f.event()
    staff_only = services.checkin_list_create(event=ev, name="工作人员通道", include_attendees=False)
    p = f.attendee(ev)
    assert f.redeem(ev, p.secret, list=staff_only.pk).message()["reason"] == "not_on_list"


def test_one_pass_on_two_lists_counts_once_for_the_event():
    ev = f.event()
    main = ev.lists.get()
    hall = services.checkin_list_create(event=ev, name="主会场")
    p = f.attendee(ev)
    f.redeem(ev, p.secret, list=main.pk)
    f.redeem(ev, p.secret, list=hall.pk)
    seq = EventSequence.objects.get(pk=ev.pk)
    assert (seq.checked_in, seq.inside) == (1, 1)
    f.redeem(ev, p.secret, list=hall.pk, kind="exit")
    assert EventSequence.objects.get(pk=ev.pk).inside == 1  # still inside on the main list
    f.redeem(ev, p.secret, list=main.pk, kind="exit")
    assert EventSequence.objects.get(pk=ev.pk).inside == 0
    hall.refresh_from_db()
    assert (hall.checked_in, hall.inside) == (1, 0)


def test_sequence_has_no_gaps_over_refused_and_replayed_scans():
    ev = f.event()
    p = f.attendee(ev)
    f.redeem(ev, p.secret, nonce="n-aaaaaaaa")
    f.redeem(ev, p.secret, nonce="n-aaaaaaaa")  # replay: no number
    f.redeem(ev, "garbage")
    f.redeem(ev, p.secret)
    assert list(Checkin.objects.filter(event=ev).values_list("seq", flat=True)) == [1, 2, 3]


def test_checkin_rows_are_append_only():
    ev = f.event()
    row = f.redeem(ev, f.attendee(ev).secret).row
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


def test_malformed_redeem_is_rejected_without_a_row():
    with pytest.raises(InvalidRedeem) as info:
        services.redeem_parse(
            {"type": "redeem", "secret": 5, "nonce": "x", "kind": "sideways", "scanned_at": "yesterday"}
        )
    fields = {e["field"] for e in info.value.details["errors"]}
    assert fields == {"secret", "nonce", "kind", "scanned_at"}
    assert Checkin.objects.count() == 0


def test_scanner_clock_ahead_is_not_believed_for_the_window():
    ev = f.event(checkin_closes_at=timezone.now() + timedelta(minutes=5))
    p = f.attendee(ev)
    future = timezone.now() + timedelta(hours=3)
    msg = f.redeem(ev, p.secret, scanned_at=future).message()
    assert msg["status"] == "ok"  # decided at our time, inside the window
    row = Checkin.objects.get(event=ev)
    assert row.scanned_at == future  # the client's claim is kept as sent


def test_upload_is_processed_in_scan_order_with_per_item_results():
    now = timezone.now()
    ev = f.event(starts_at=now - timedelta(hours=1), checkin_opens_at=now - timedelta(hours=2))
    p = f.attendee(ev)
    items = [
        f.redeem_msg(p.secret, kind="exit", scanned_at=now - timedelta(minutes=20), nonce="up-exit-1"),
        f.redeem_msg(p.secret, kind="entry", scanned_at=now - timedelta(minutes=50), nonce="up-entry-1"),
        {"type": "redeem", "secret": p.secret},  # malformed: no nonce
        f.redeem_msg(p.secret, kind="entry", scanned_at=now - timedelta(minutes=10), nonce="up-entry-2"),
    ]
    results = services.checkin_upload(event_id=ev.pk, items=items)
    ok = [r for r in results if r["type"] == "result"]
    assert [r["nonce"] for r in ok] == ["up-entry-1", "up-exit-1", "up-entry-2"]
    assert [r["status"] for r in ok] == ["ok", "ok", "ok"]
    assert all(r["late"] for r in ok)
    bad = [r for r in results if r["type"] == "error"]
    assert bad[0]["index"] == 2 and bad[0]["code"] == "invalid_message"
    # Uploading the same queue again changes nothing.
    again = services.checkin_upload(event_id=ev.pk, items=items)
    assert [r.get("replayed") for r in again if r["type"] == "result"] == [True, True, True]
    assert Checkin.objects.filter(event=ev).count() == 3
    assert EventSequence.objects.get(pk=ev.pk).inside == 1


def test_unknown_list_is_an_error_not_a_row():
    ev = f.event()
    p = f.attendee(ev)
    results = services.checkin_upload(event_id=ev.pk, items=[f.redeem_msg(p.secret, list=999999)])
    assert results[0]["code"] == "unknown_list"
    assert not Checkin.objects.exists()


def test_pass_secret_verifies_offline_with_the_published_keys():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from backend.core.signed_tokens import PASS_DOMAIN, verify_token

    ev = f.event()
    p = f.attendee(ev)
    jwks = keys.public_jwks("pass")
    import base64

    public = {
        int(k["kid"]): Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(k["x"] + "=="))
        for k in jwks["keys"]
    }
    payload = verify_token(p.secret, domain=PASS_DOMAIN, public_key_for=public.get)
    assert payload.token_id.hex() == Pass.objects.get(pk=p.pk).token_id
