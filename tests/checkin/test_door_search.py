"""The door search: scanners and coordinators find a guest without a QR code by name or the last
four digits of their phone, see masked results, every search audited; then redeem by pass id
over HTTP and over the scanner socket."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin import services
from backend.checkin.models import Checkin
from backend.core.models import AuditLog
from tests.checkin import factories as f
from tests.factories import UserFactory
from tests.helpers import assert_error, token_for


@pytest.fixture
def ev(db):
    return f.event()


@pytest.fixture
def scanner(ev):
    return f.staff(ev, Role.SCANNER)


def search(api, user, ev, query):
    return api.as_user(user).get(f"/events/{ev.pk}/passes", {"search": query})


@pytest.mark.django_db
def test_scanner_finds_a_pass_by_part_of_the_name_masked(api, ev, scanner):
    wang = f.attendee(ev, "王小明")
    f.attendee(ev, "李娜")
    r = search(api, scanner, ev, "小明")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["id"], i["name"]) for i in items] == [(wang.pk, "王*明")]
    assert "王小明" not in r.content.decode() and r.json()["next_cursor"] is None


@pytest.mark.django_db
def test_search_by_the_last_four_digits_of_the_phone(api, ev, scanner):
    holder = UserFactory(phone="13912345678")
    theirs = services.pass_add_attendee(event=ev, holder_name="赵六", holder=holder)
    other = f.attendee(ev, "钱七", holder=UserFactory(phone="13900005678"))
    f.attendee(ev, "孙八", holder=UserFactory(phone="13900001234"))
    r = search(api, scanner, ev, "5678")
    assert sorted(i["id"] for i in r.json()["items"]) == sorted([theirs.pk, other.pk])
    r = search(api, scanner, ev, "2345")  # the middle of a number is not its end
    assert r.json()["items"] == []
    body = search(api, scanner, ev, "5678").content.decode()
    assert "13912345678" not in body and "1391" not in body


@pytest.mark.django_db
def test_voided_passes_and_other_events_passes_are_not_found(api, ev, scanner):
    gone = f.attendee(ev, "王小明")
    services.pass_void(pass_obj=gone)
    f.attendee(f.event(), "王小明")
    assert search(api, scanner, ev, "王小明").json()["items"] == []


@pytest.mark.django_db
def test_results_are_bounded(api, ev, scanner, settings):
    settings.LINLI_CHECKIN_SEARCH_MAX = 3
    for i in range(5):
        f.attendee(ev, f"王小{i}")
    assert len(search(api, scanner, ev, "王小").json()["items"]) == 3


@pytest.mark.django_db
def test_every_search_is_audited_with_a_masked_query(api, ev, scanner):
    wang = f.attendee(ev, "王小明")
    search(api, scanner, ev, "王小明")
    search(api, scanner, ev, "0000")
    rows = list(AuditLog.objects.filter(action="checkin.pass_searched").order_by("id"))
    assert [(r.actor_id, r.data["by"], r.data["query"], r.data["found"]) for r in rows] == [
        (scanner.pk, "name", "王*明", [wang.pk]),
        (scanner.pk, "phone_last4", "0000", []),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["王", " ", "1234567", "x" * 51])
def test_a_query_too_short_or_too_long_is_refused(api, ev, scanner, query):
    if query == "1234567":  # digits but not four: a name search, long enough, finds nothing
        assert search(api, scanner, ev, query).json()["items"] == []
        return
    body = assert_error(search(api, scanner, ev, query), 422, "validation_error")
    assert body["details"]["errors"][0]["field"] == "search"


@pytest.mark.django_db
def test_searches_are_rate_limited_per_user(api, ev, scanner, settings):
    settings.LINLI_CHECKIN_SEARCH_RATE = "2/m"
    assert search(api, scanner, ev, "王小").status_code == 200
    assert search(api, scanner, ev, "王小").status_code == 200
    r = search(api, scanner, ev, "王小")
    assert_error(r, 429, "rate_limited")
    assert int(r["Retry-After"]) >= 1
    assert search(api, f.staff(ev, Role.SCANNER), ev, "王小").status_code == 200  # another scanner


@pytest.mark.django_db
def test_outsiders_cannot_search_and_scanners_cannot_list(api, ev, scanner):
    assert_error(search(api, UserFactory(), ev, "王小明"), 404, "not_found")
    assert_error(api.as_user(scanner).get(f"/events/{ev.pk}/passes"), 404, "not_found")
    coordinator = f.staff(ev, Role.COORDINATOR)
    assert search(api, coordinator, ev, "王小明").status_code == 200


@pytest.mark.django_db
def test_scanner_redeems_a_found_pass_by_id_over_http(api, ev, scanner):
    wang = f.attendee(ev, "王小明")
    found = search(api, scanner, ev, "小明").json()["items"][0]
    item = {
        "pass_id": found["id"],
        "nonce": f.nonce(),
        "kind": "entry",
        "scanned_at": timezone.now().isoformat(),
    }
    r = api.as_user(scanner).post(
        f"/events/{ev.pk}/checkins", {"items": [item, {**item, "nonce": f.nonce()}]}
    )
    results = r.json()["results"]
    assert results[0]["status"] == "ok" and results[0]["pass"]["name"] == "王*明"
    assert results[1]["reason"] == "already_redeemed"  # the same decision as a scan of its QR
    assert Checkin.objects.filter(pass_obj=wang, status="ok").count() == 1


@pytest.mark.django_db
def test_redeem_by_an_id_of_another_events_pass_is_invalid(api, ev, scanner):
    stranger = f.attendee(f.event(), "王小明")
    item = {"pass_id": stranger.pk, "nonce": f.nonce(), "kind": "entry"}
    result = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": [item]}).json()["results"][0]
    assert result["status"] == "error" and result["reason"] == "invalid" and result["pass"] is None


@pytest.mark.django_db
def test_redeem_by_id_of_a_voided_pass_is_revoked(api, ev, scanner):
    gone = services.pass_void(pass_obj=f.attendee(ev, "王小明"))
    item = {"pass_id": gone.pk, "nonce": f.nonce(), "kind": "entry"}
    result = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": [item]}).json()["results"][0]
    assert result["reason"] == "revoked"


@pytest.mark.django_db
def test_a_redeem_names_a_secret_or_a_pass_id_not_both(api, ev, scanner):
    wang = f.attendee(ev, "王小明")
    item = {"pass_id": wang.pk, "secret": wang.secret, "nonce": f.nonce(), "kind": "entry"}
    result = api.as_user(scanner).post(f"/events/{ev.pk}/checkins", {"items": [item]}).json()["results"][0]
    assert result["type"] == "error" and result["details"]["errors"][0]["field"] == "secret"


@pytest.mark.django_db(transaction=True)
async def test_scanner_redeems_by_pass_id_over_the_socket():
    from tests.realtime.test_checkin_sockets import open_socket, scan_path

    @database_sync_to_async
    def setup():
        ev = f.event()
        return ev, token_for(f.staff(ev, Role.SCANNER)), f.attendee(ev, "王小明")

    ev, token, wang = await setup()
    ws = await open_socket(scan_path(ev), token)
    nonce = f.nonce()
    await ws.send_to(
        text_data=json.dumps({"type": "redeem", "pass_id": wang.pk, "nonce": nonce, "kind": "entry"})
    )
    reply = await ws.receive_json_from(timeout=5)
    assert reply["nonce"] == nonce and reply["status"] == "ok" and reply["pass"]["name"] == "王*明"
    await ws.disconnect()
    row = await database_sync_to_async(Checkin.objects.get)(nonce=nonce)
    assert row.pass_obj_id == wang.pk
