"""The offline bundle through the API: streamed full bundle (plain and gzip), the delta since a
cursor, cursor errors, and a change committed while a bundle is read."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.checkin import offline, services
from backend.checkin.models import Pass
from tests.checkin import factories as f
from tests.helpers import assert_error
from tests.support import contract

pytestmark = pytest.mark.django_db


def fetch(api, user, ev, since=None, **headers):
    path = f"/events/{ev.pk}/offline-bundle"
    response = api.as_user(user).get(path, {"since": since} if since is not None else None, headers=headers)
    return response


def body_of(response) -> dict:
    assert response.status_code == 200, getattr(response, "content", b"")
    raw = b"".join(response.streaming_content)
    if response.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    # The streamed body is checked against the published schema like every other answer.
    contract.check("get", "/api/v1/events/1/offline-bundle", 200, response["Content-Type"], raw)
    return json.loads(raw)


@pytest.fixture
def ev():
    return f.event()


@pytest.fixture
def scanner(ev):
    return f.staff(ev, Role.SCANNER)


def test_full_bundle_is_streamed_with_a_cursor(api, ev, scanner):
    passes = [f.attendee(ev, name) for name in ("王小明", "李娜", "欧阳小锋")]
    response = fetch(api, scanner, ev)
    assert response.streaming and "no-store" in response["Cache-Control"]
    bundle = body_of(response)
    assert bundle["full"] is True and bundle["cursor"]
    assert [p["id"] for p in bundle["passes"]] == [p.token_id for p in passes]
    assert [p["name"] for p in bundle["passes"]] == ["王*明", "李*", "欧**锋"]
    assert bundle["passes"][0] == {
        "id": passes[0].token_id,
        "kind": "attendee",
        "name": "王*明",
        "blocked": False,
        "lists": [ev.lists.get().pk],
        "entered": False,
    }


def test_full_bundle_in_gzip_when_the_client_accepts_it(api, ev, scanner):
    for i in range(30):
        f.attendee(ev, f"来客{i}")
    plain = fetch(api, scanner, ev)
    zipped = fetch(api, scanner, ev, **{"Accept-Encoding": "gzip, deflate"})
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert plain.get("Content-Encoding") is None
    a, b = body_of(plain), body_of(zipped)
    assert a["passes"] == b["passes"] and len(b["passes"]) == 30


def test_full_bundle_spans_several_chunks(api, ev, scanner, monkeypatch):
    monkeypatch.setattr(offline, "CHUNK", 7)
    made = [f.attendee(ev, f"来客{i}").token_id for i in range(23)]
    services.pass_void(pass_obj=Pass.objects.get(token_id=made[7]))
    bundle = body_of(fetch(api, scanner, ev))
    assert [p["id"] for p in bundle["passes"]] == made[:7] + made[8:]
    assert bundle["revoked"] == [made[7]]


def test_delta_holds_only_what_changed_since_the_cursor(api, ev, scanner):
    kept, voided, blocked, reissued = (f.attendee(ev, n) for n in ("甲一", "乙二", "丙三", "丁四"))
    cursor = body_of(fetch(api, scanner, ev))["cursor"]
    added = f.attendee(ev, "戊五")
    services.pass_void(pass_obj=voided)
    services.pass_block(pass_obj=blocked, blocked=True)
    old_token = reissued.token_id
    reissued = services.pass_reissue(pass_obj=reissued)
    delta = body_of(fetch(api, scanner, ev, since=cursor))
    assert delta["full"] is False and delta["cursor"] != cursor
    by_id = {p["id"]: p for p in delta["passes"]}
    assert set(by_id) == {added.token_id, blocked.token_id, reissued.token_id}
    assert by_id[blocked.token_id]["blocked"] is True
    assert sorted(delta["revoked"]) == sorted([voided.token_id, old_token])
    assert kept.token_id not in by_id and delta["lists"]
    # Nothing changed since the new cursor: an empty delta.
    again = body_of(fetch(api, scanner, ev, since=delta["cursor"]))
    assert again["passes"] == [] and again["revoked"] == [] and again["cursor"] == delta["cursor"]


def test_delta_carries_passes_that_entered_since_the_cursor(api, ev, scanner):
    first, second = f.attendee(ev, "甲一"), f.attendee(ev, "乙二")
    cursor = body_of(fetch(api, scanner, ev))["cursor"]
    f.redeem(ev, first.secret)
    delta = body_of(fetch(api, scanner, ev, since=cursor))
    assert [(p["id"], p["entered"]) for p in delta["passes"]] == [(first.token_id, True)]
    assert second.token_id not in {p["id"] for p in delta["passes"]}
    assert delta["seq"] == 1


def test_a_list_rule_change_answers_the_full_bundle(api, ev, scanner):
    f.attendee(ev, "甲一")
    cursor = body_of(fetch(api, scanner, ev))["cursor"]
    services.checkin_list_create(event=ev, name="志愿者通道", include_attendees=False)
    delta = body_of(fetch(api, scanner, ev, since=cursor))
    assert delta["full"] is True and len(delta["passes"]) == 1 and len(delta["lists"]) == 2


def test_a_change_committed_while_the_bundle_is_read_reaches_the_next_delta(api, ev, scanner):
    """The counters are read before the data: a void that commits between the two is either in
    this answer or after its cursor, never lost."""
    coordinator = f.staff(ev, Role.COORDINATOR)
    victim = f.attendee(ev, "甲一")
    plan = offline.bundle_plan(event=ev)  # the cursor is fixed here
    r = api.as_user(coordinator).post(f"/events/{ev.pk}/passes/{victim.pk}/void", {"reason": "lost"})
    assert r.status_code == 200
    bundle = json.loads(b"".join(offline.bundle_chunks(plan)))
    assert bundle["passes"] == []  # read after the void committed: already gone
    delta = body_of(fetch(api, scanner, ev, since=bundle["cursor"]))
    assert delta["revoked"] == [victim.token_id]  # and the delta still says so


@pytest.mark.parametrize("cursor", ["", "x", "!!!!", "YjE6MTox", "Zm9vOjE6Mjoz"])
def test_a_malformed_cursor_is_refused(api, ev, scanner, cursor):
    if cursor == "":
        assert fetch(api, scanner, ev, since=cursor).status_code == 200  # empty: the full bundle
        return
    assert_error(fetch(api, scanner, ev, since=cursor), 422, "invalid_cursor")


def test_another_events_cursor_is_refused(api, ev, scanner):
    other = f.event()
    cursor = body_of(fetch(api, f.staff(other, Role.SCANNER), other))["cursor"]
    assert_error(fetch(api, scanner, ev, since=cursor), 422, "invalid_cursor")


def test_a_cursor_ahead_of_the_event_is_expired(api, ev, scanner):
    ahead = offline.BundleCursor(event_id=ev.pk, change=99, scan=0).encode()
    response = fetch(api, scanner, ev, since=ahead)
    assert_error(response, 410, "cursor_expired")
    assert response.json()["details"] == {"reason": "unknown"}


def test_a_cursor_too_far_behind_is_expired(api, ev, scanner, settings):
    settings.LINLI_CHECKIN_DELTA_MAX = 2
    cursor = body_of(fetch(api, scanner, ev))["cursor"]
    for name in ("甲一", "乙二", "丙三"):
        f.attendee(ev, name)
    response = fetch(api, scanner, ev, since=cursor, **{"Accept-Language": "en"})
    assert_error(response, 410, "cursor_expired")
    assert "full bundle" in response.json()["message"]


def test_only_staff_of_the_event_get_its_bundle(api, ev):
    from tests.factories import UserFactory

    assert_error(fetch(api, UserFactory(), ev), 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_a_void_uncommitted_during_a_read_reaches_the_next_delta(api):
    """A coordinator's void is numbered but not yet committed while a scanner syncs: the
    scanner's cursor stays below it, and once it commits the next delta carries it."""
    import threading

    from django.db import connection, transaction

    from backend.core.keys import keys_invalidate

    keys_invalidate()
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    victim, bystander = f.attendee(ev, "甲一"), f.attendee(ev, "乙二")
    numbered, release, failures = threading.Event(), threading.Event(), []

    def void() -> None:
        try:
            with transaction.atomic():
                services.pass_void(pass_obj=victim)
                numbered.set()
                assert release.wait(20)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=void)
    worker.start()
    try:
        assert numbered.wait(20)
        # The read itself (on SQLite an API request may take the write lock, so the selector).
        from backend.checkin.models import Event

        during = json.loads(b"".join(offline.bundle_stream(event=Event.objects.get(pk=ev.pk))))
        assert {p["id"] for p in during["passes"]} == {victim.token_id, bystander.token_id}
        assert during["revoked"] == []
    finally:
        release.set()
        worker.join(20)
    assert not failures
    delta = body_of(fetch(api, scanner, ev, since=during["cursor"]))
    assert delta["revoked"] == [victim.token_id] and delta["passes"] == []


def _admin_post_data(response) -> dict:
    """The change form's current values (main form, inline forms and their management forms)."""
    data: dict = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            elif isinstance(value, datetime):  # the admin's split date and time inputs
                local = timezone.localtime(value)
                data[f"{key}_0"], data[f"{key}_1"] = local.date().isoformat(), local.time().isoformat()
            else:
                data[key] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_list_rules_edited_in_the_admin_make_the_next_sync_full(api, ev, scanner):
    from tests.factories import UserFactory
    from tests.helpers import admin_client_for

    f.attendee(ev, "甲一")
    cursor = body_of(fetch(api, scanner, ev))["cursor"]
    admin = admin_client_for(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/checkin/event/{ev.pk}/change/"
    data = _admin_post_data(admin.get(url))
    lists_prefix = next(k for k in data if k.endswith("-0-name")).removesuffix("-0-name")
    data[f"{lists_prefix}-0-allow_multiple_entries"] = "on"
    response = admin.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    assert ev.lists.get().allow_multiple_entries is True
    assert body_of(fetch(api, scanner, ev, since=cursor))["full"] is True


def test_every_shape_of_name_is_masked_as_everywhere_else(api, ev, scanner, monkeypatch):
    from backend.core.masking import mask_name

    monkeypatch.setattr(offline, "CHUNK", 3)
    names = [
        "王小明",
        "John Smith",
        "阿依古丽·买买提",
        "李",
        '引"号\\',
        "欧阳小锋",
        " 张三 ",
        "Ａｂ",
        "司马相如",
    ]
    made = {f.attendee(ev, name).token_id: name for name in names}
    bundle = body_of(fetch(api, scanner, ev))
    assert {p["id"]: p["name"] for p in bundle["passes"]} == {t: mask_name(n) for t, n in made.items()}


def test_passes_interleaved_with_another_events_come_once_each(api, ev, scanner, monkeypatch):
    monkeypatch.setattr(offline, "CHUNK", 4)
    other = f.event()
    ours = []
    for i in range(17):
        ours.append(f.attendee(ev, f"王{i}号").token_id)
        for _ in range(i % 3):
            f.attendee(other, "李四")
    bundle = body_of(fetch(api, scanner, ev))
    assert sorted(p["id"] for p in bundle["passes"]) == sorted(ours)
