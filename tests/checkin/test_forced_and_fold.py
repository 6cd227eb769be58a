"""Pure parts of forced scans and annulments: the decision for a forced entry, and a pass's state
folded from the scans that still count. No database."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from backend.checkin.models import Reason
from backend.checkin.redeem.decide import Scan, decide
from backend.checkin.redeem.fold import Effective, Stay, fold
from tests.checkin.test_decide import EARLIER, NOW, WINDOW, attendee, door, entered, inside

# --- forced entries ----------------------------------------------------------------------------------


def forced(**changes):
    return Scan(kind="entry", at=NOW, forced=True, **changes)


def test_forced_entry_of_a_pass_inside_is_admitted_with_the_conflict_and_counts_nothing_twice():
    lst = dataclasses.replace(inside(door()), last_entry_gate="北门")
    decision = decide(scan=forced(), holder=entered(), lists=[lst], window=WINDOW)
    assert decision.ok and decision.conflict == Reason.ALREADY_REDEEMED
    assert (decision.entry_at, decision.entry_gate) == (EARLIER, "北门")
    assert (decision.deltas.event_checked_in, decision.deltas.event_inside, decision.deltas.list_inside) == (
        0,
        0,
        0,
    )


def test_forced_entry_of_a_void_pass_puts_it_inside():
    decision = decide(scan=forced(), holder=attendee(void=True), lists=[door()], window=WINDOW)
    assert decision.ok and decision.conflict == Reason.REVOKED
    assert decision.deltas.event_inside == 1 and decision.stay is not None


def test_forced_entry_outside_the_window_is_admitted_as_invalid_time():
    late = dataclasses.replace(WINDOW, closes=NOW - timedelta(minutes=1))
    decision = decide(scan=forced(), holder=attendee(), lists=[door()], window=late)
    assert decision.ok and decision.conflict == Reason.INVALID_TIME


def test_forced_entry_without_a_pass_stays_refused_and_is_flagged():
    decision = decide(scan=forced(), holder=None, lists=[door()], window=None)
    assert not decision.ok and decision.reason == decision.conflict == Reason.INVALID


def test_forced_entry_the_rules_admit_is_no_conflict():
    decision = decide(scan=forced(), holder=attendee(), lists=[door()], window=WINDOW)
    assert decision.ok and decision.conflict == ""


def test_a_forced_exit_is_an_ordinary_exit():
    scan = Scan(kind="exit", at=NOW, forced=True)
    decision = decide(scan=scan, holder=entered(), lists=[inside(door())], window=WINDOW)
    assert decision.ok and decision.conflict == "" and decision.deltas.event_inside == -1


# --- folding a pass's scans --------------------------------------------------------------------------


def row(seq: int, kind: str, minutes: int, list_id: int = 1) -> Effective:
    return Effective(id=100 + seq, seq=seq, list_id=list_id, kind=kind, at=NOW + timedelta(minutes=minutes))


def test_fold_of_nothing_is_a_pass_that_never_entered():
    state = fold([])
    assert (state.checked_in, state.inside, state.stays) == (False, False, [])


def test_fold_follows_stays_across_lists():
    state = fold(
        [row(1, "entry", 0), row(2, "entry", 5, list_id=2), row(3, "exit", 10), row(4, "exit", 20, 2)]
    )
    assert state.stays == [Stay(seq=1, start=NOW, end=NOW + timedelta(minutes=20))]
    assert state.first_entry_at == NOW and not state.inside
    assert (state.on(1).entries, state.on(2).last_entry_id) == (1, 102)


def test_without_an_annulled_exit_the_stay_runs_to_the_next_one():
    rows = [row(1, "entry", 0), row(2, "exit", 10), row(3, "entry", 20), row(4, "exit", 30)]
    assert fold(rows).stays == [
        Stay(seq=1, start=NOW, end=NOW + timedelta(minutes=10)),
        Stay(seq=3, start=NOW + timedelta(minutes=20), end=NOW + timedelta(minutes=30)),
    ]
    without = fold([r for r in rows if r.seq != 2])
    assert without.stays == [Stay(seq=1, start=NOW, end=NOW + timedelta(minutes=30))]
    assert without.on(1).entries == 2


def test_an_exit_of_a_pass_not_inside_changes_nothing_in_the_fold():
    state = fold([row(1, "exit", 0), row(2, "entry", 5)])
    assert state.inside and state.inside_since == NOW + timedelta(minutes=5) and state.stay_seq == 2
    assert state.on(1).last_exit_at is None
