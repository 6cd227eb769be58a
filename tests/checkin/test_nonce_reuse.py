"""A nonce is a repeat only for the same scan (issue 14): reused with another pass's secret, or
for the other kind of scan, it is refused with ``nonce_reused`` and never answered with the
other scan's result. Over the scanner socket and the HTTP upload, on SQLite and PostgreSQL (each
with its own writer, ``backend.checkin.redeem.store_sqlite`` / ``store_postgres``)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from backend.accounts.models import Role
from backend.checkin.models import Checkin, Pass
from tests.checkin import factories as f
from tests.helpers import token_for
from tests.realtime.test_checkin_sockets import open_socket, scan_path

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def _setup():
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    return ev, scanner, token_for(scanner), f.attendee(ev, "张三丰"), f.attendee(ev, "李四光")


@database_sync_to_async
def _rows(ev) -> list[tuple[int | None, str, str]]:
    return list(Checkin.objects.filter(event=ev).order_by("seq").values_list("pass_obj_id", "kind", "nonce"))


async def _send(ws, msg: dict) -> dict:
    await ws.send_json_to(msg)
    return await ws.receive_json_from(timeout=5)


async def test_a_nonce_reused_with_another_pass_is_refused_over_the_socket():
    ev, _, token, first, second = await _setup()
    ws = await open_socket(scan_path(ev), token)
    admitted = await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-1"))
    reused = await _send(ws, f.redeem_msg(second.secret, nonce="door-nonce-1"))
    fresh = await _send(ws, f.redeem_msg(second.secret, nonce="door-nonce-2"))
    await ws.disconnect()

    assert admitted["status"] == "ok" and admitted["pass"]["name"] == "张*丰"
    assert reused["type"] == "error" and reused["code"] == "nonce_reused"
    assert reused["nonce"] == "door-nonce-1"
    assert "pass" not in reused and "replayed" not in reused  # nothing of the first pass's result
    assert fresh["status"] == "ok" and fresh["pass"]["name"] == "李*光"
    assert await _rows(ev) == [(first.pk, "entry", "door-nonce-1"), (second.pk, "entry", "door-nonce-2")]


async def test_the_same_nonce_for_the_same_pass_still_replays():
    ev, _, token, first, _ = await _setup()
    ws = await open_socket(scan_path(ev), token)
    admitted = await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-3"))
    again = await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-3"))
    await ws.disconnect()
    assert again["replayed"] is True and again["seq"] == admitted["seq"]


async def test_a_nonce_reused_for_an_exit_after_an_entry_is_refused():
    ev, _, token, first, _ = await _setup()
    ws = await open_socket(scan_path(ev), token)
    await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-4"))
    reused = await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-4", kind="exit"))
    await ws.disconnect()
    assert reused["code"] == "nonce_reused"
    assert await _rows(ev) == [(first.pk, "entry", "door-nonce-4")]


async def test_a_nonce_first_used_with_a_forged_secret_is_not_a_pass_s_answer():
    ev, _, token, first, _ = await _setup()
    ws = await open_socket(scan_path(ev), token)
    forged = await _send(ws, f.redeem_msg("NOTAGENUINESECRET", nonce="door-nonce-5"))
    forged_again = await _send(ws, f.redeem_msg("ANOTHERFORGERY", nonce="door-nonce-5"))
    genuine = await _send(ws, f.redeem_msg(first.secret, nonce="door-nonce-5"))
    await ws.disconnect()
    assert forged["reason"] == "invalid" and forged_again["replayed"] is True  # refused both times
    assert genuine["code"] == "nonce_reused"


async def test_a_revoked_secret_reusing_its_new_secrets_nonce_is_a_repeat_of_the_same_pass():
    ev, scanner, token, first, _ = await _setup()
    ws = await open_socket(scan_path(ev), token)
    old_secret = first.secret
    await _send(ws, f.redeem_msg(old_secret, nonce="door-nonce-6"))

    @database_sync_to_async
    def reissue():
        from backend.checkin import services

        return services.pass_reissue(pass_obj=Pass.objects.get(pk=first.pk), by=scanner)

    await reissue()
    again = await _send(ws, f.redeem_msg(old_secret, nonce="door-nonce-6"))
    await ws.disconnect()
    assert again.get("replayed") is True


def test_a_nonce_reused_in_an_http_upload_is_refused_in_the_callers_language(api):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    first, second = f.attendee(ev, "张三丰"), f.attendee(ev, "李四光")
    items = [
        f.redeem_msg(first.secret, nonce="upload-nonce-1"),
        f.redeem_msg(second.secret, nonce="upload-nonce-1"),
    ]

    results = (
        api.as_user(scanner, lang="en").post(f"/events/{ev.pk}/checkins", {"items": items}).json()["results"]
    )

    assert results[0]["status"] == "ok"
    assert results[1]["type"] == "error" and results[1]["code"] == "nonce_reused"
    assert results[1]["index"] == 1 and results[1]["nonce"] == "upload-nonce-1"
    assert results[1]["message"].startswith("This nonce was already used")
    assert list(Checkin.objects.filter(event=ev).values_list("pass_obj_id", flat=True)) == [first.pk]


def test_upload_item_messages_follow_accept_language(api):
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    items = [{"type": "redeem", "secret": "x"}]  # no nonce, no kind: malformed
    url = f"/events/{ev.pk}/checkins"

    chinese = api.as_user(scanner).post(url, {"items": items}).json()["results"][0]
    english = api.as_user(scanner, lang="en").post(url, {"items": items}).json()["results"][0]
    chinese_explicit = (
        api.as_user(scanner, lang="zh-CN,zh;q=0.9").post(url, {"items": items}).json()["results"][0]
    )

    assert chinese["code"] == english["code"] == "invalid_message"
    assert english["message"] == "The redeem message is malformed."
    assert chinese["message"] == chinese_explicit["message"] == "核验消息格式不正确。"
    assert chinese["details"]["errors"][0]["message"] != english["details"]["errors"][0]["message"]
