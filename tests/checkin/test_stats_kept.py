"""``GET /events/{id}/stats`` reads kept counters: the same queries at any size, and the figures
equal a count from scratch after entries, exits, voids and annulments."""

from __future__ import annotations

from collections import Counter

import pytest

from backend.accounts.models import Role
from backend.checkin.models import Checkin, CheckinList, Device, Pass, Presence
from tests.checkin import factories as f

pytestmark = pytest.mark.django_db


def recount(ev) -> dict:
    """The stats counted from the rows, as the old endpoint did (and more)."""
    passes = Pass.objects.filter(event=ev)
    presences = Presence.objects.filter(pass_obj__event=ev)
    moved = Counter()
    effective = Checkin.objects.filter(event=ev, status="ok", annulment__isnull=True).exclude(gate="")
    for row in effective:
        if row.kind == "entry":
            moved[(row.gate, "entries")] += 1
        elif row.kind == "exit" and row.entry_at is not None:
            moved[(row.gate, "exits")] += 1
    gates = sorted(set(Device.objects.filter(event=ev).values_list("gate", flat=True)))
    effective_auto = Checkin.objects.filter(event=ev, status="ok", source="auto", annulment__isnull=True)
    return {
        "passes": passes.filter(status="valid").count(),
        "checked_in": passes.filter(first_entry_at__isnull=False).count(),
        "inside": passes.filter(inside_lists__gt=0).count(),
        "by_list": [
            {
                "id": lst.pk,
                "name": lst.name,
                "checked_in": presences.filter(list=lst, entries__gt=0).count(),
                "inside": presences.filter(list=lst, inside=True).count(),
                "auto_checked_out": effective_auto.filter(list=lst).count(),
            }
            for lst in CheckinList.objects.filter(event=ev).order_by("id")
        ],
        "by_gate": [
            {"gate": gate, "entries": moved[(gate, "entries")], "exits": moved[(gate, "exits")]}
            for gate in gates
        ],
    }


def kept(stats: dict) -> dict:
    return {key: stats[key] for key in ("passes", "checked_in", "inside", "by_list", "by_gate")}


def test_stats_cost_the_same_for_one_pass_and_sixty(
    api, django_assert_num_queries, django_assert_max_num_queries
):
    ev = f.event()
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    north = f.device(scanner, ev, gate="北门")
    f.upload(scanner, ev, f.attendee(ev).secret, device_id=north)
    with django_assert_max_num_queries(8) as small:
        one = coordinator.get(f"/events/{ev.pk}/stats").json()
    # Read now: the next request resets the connection's query log the capture points into.
    small_queries = [q["sql"] for q in small.captured_queries]
    south = f.device(scanner, ev, name="2号机", gate="南门")
    for i in range(59):
        f.upload(scanner, ev, f.attendee(ev, f"参加者{i}").secret, device_id=south if i % 2 else north)
    with django_assert_num_queries(len(small_queries)):
        many = coordinator.get(f"/events/{ev.pk}/stats").json()
    assert (one["passes"], one["checked_in"]) == (1, 1)
    assert (many["passes"], many["checked_in"], many["inside"]) == (60, 60, 60)
    assert many["by_gate"] == [
        {"gate": "北门", "entries": 31, "exits": 0},
        {"gate": "南门", "entries": 29, "exits": 0},
    ]
    # No query of the stats counts rows: every figure comes from a kept counter.
    assert small_queries and not any("COUNT(" in sql.upper() for sql in small_queries)


def test_stats_equal_a_recount_after_entries_exits_voids_and_annulments(api):
    ev = f.event()
    f.attendee(ev, "不来的人")
    coordinator = api.as_user(f.staff(ev, Role.COORDINATOR))
    scanner = api.as_user(f.staff(ev, Role.SCANNER))
    gate = f.device(scanner, ev, gate="东门")
    a, b, c, d = (f.attendee(ev, name) for name in ("甲", "乙", "丙", "丁"))
    f.upload(scanner, ev, a.secret, device_id=gate)
    f.upload(scanner, ev, b.secret, device_id=gate)
    f.upload(scanner, ev, b.secret, device_id=gate, kind="exit")
    f.upload(scanner, ev, c.secret, device_id=gate, nonce="c-entry-0001")
    f.upload(scanner, ev, d.secret)
    f.upload(scanner, ev, d.secret, kind="exit", nonce="d-exit-00001")
    assert coordinator.post(f"/events/{ev.pk}/passes/{a.pk}/void", {}).status_code == 200
    annulled = coordinator.post(
        f"/events/{ev.pk}/checkins/annul", {"nonce": "c-entry-0001", "reason": "扫错"}
    )
    assert annulled.status_code == 200, annulled.json()
    coordinator.post(f"/events/{ev.pk}/checkins/annul", {"nonce": "d-exit-00001", "reason": "没出去"})
    stats = coordinator.get(f"/events/{ev.pk}/stats").json()
    assert kept(stats) == recount(ev)
    # 5 valid passes (a voided); b and d checked in, and a (voiding keeps the record);
    # inside: a (still at the door when voided) and d (its exit annulled).
    assert (stats["passes"], stats["checked_in"], stats["inside"]) == (4, 3, 2)
    assert stats["by_gate"] == [{"gate": "东门", "entries": 2, "exits": 1}]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_scans_forced_scans_and_annulments_keep_every_count_equal_to_a_recount(seed):
    """Entries, exits, forced entries and coordinators' annulments in a random order on three
    passes, two lists and two gates: after each step the kept counts equal a count from scratch,
    and each pass's kept state is the fold of its scans that still count."""
    import random

    from backend.checkin import services
    from backend.checkin.redeem.fold import Effective, fold

    rng = random.Random(seed)
    ev = f.event()
    coordinator = f.staff(ev, Role.COORDINATOR)
    lists = [
        ev.lists.get().pk,
        services.checkin_list_create(event=ev, name="贵宾", allow_multiple_entries=True).pk,
    ]
    gates = [services.device_register(event=ev, name=f"{g}机", gate=g).pk for g in ("北门", "南门")]
    passes = [f.attendee(ev, name) for name in ("甲", "乙", "丙")]
    admitted: list[str] = []
    for step in range(40):
        roll = rng.random()
        if roll < 0.2 and admitted:
            nonce = admitted.pop(rng.randrange(len(admitted)))
            services.checkin_annul(
                event=ev, nonce=nonce, reason="随机", by=services.AnnulBy(user=coordinator)
            )
        else:
            msg = f.redeem_msg(
                rng.choice(passes).secret,
                kind="exit" if roll > 0.65 else "entry",
                list=rng.choice(lists),
                device_id=rng.choice(gates),
                forced=rng.random() < 0.3,
                nonce=f"step-{seed}-{step:03d}",
            )
            result = services.checkin_redeem(event_id=ev.pk, redeem=services.redeem_parse(msg))
            if result.row.status == "ok":
                admitted.append(msg["nonce"])
        stats = services_stats(ev)
        assert stats == recount(ev), f"step {step}"
    for p in passes:
        p.refresh_from_db()
        rows = Checkin.objects.filter(
            pass_obj=p, status="ok", kind__in=["entry", "exit"], annulment__isnull=True
        )
        state = fold(
            Effective(id=r.pk, seq=r.seq, list_id=r.list_id, kind=r.kind, at=min(r.scanned_at, r.received_at))
            for r in rows
        )
        assert (p.first_entry_at, p.inside_lists, p.inside_since, p.stay_seq) == (
            state.first_entry_at,
            state.inside_lists,
            state.inside_since,
            state.stay_seq,
        )


def services_stats(ev) -> dict:
    from backend.checkin import selectors

    return kept(selectors.event_stats(event=ev))
