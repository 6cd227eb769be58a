"""The check-in decision on its own: no database, every reason code, the order the rules apply
in, what an admitted scan changes, and (hypothesis) the counters a run of scans keeps."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.checkin.errors import ListNotOfEvent
from backend.checkin.models import Reason
from backend.checkin.redeem.decide import (
    Decision,
    Deltas,
    ListState,
    PassState,
    Scan,
    Window,
    decide,
)

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WINDOW = Window(opens=NOW - timedelta(hours=1), closes=NOW + timedelta(hours=4))
EARLIER = NOW - timedelta(minutes=30)


def attendee(**changes: Any) -> PassState:
    """An attendee's pass that never entered."""
    base = PassState(
        kind="attendee",
        shift_id=None,
        void=False,
        blocked=False,
        first_entry_at=None,
        inside_lists=0,
        inside_since=None,
        stay_seq=None,
    )
    return dataclasses.replace(base, **changes)


def volunteer(**changes: Any) -> PassState:
    return dataclasses.replace(attendee(kind="volunteer", shift_id=7), **changes)


def entered(**changes: Any) -> PassState:
    """A pass inside on one list since EARLIER (its stay began with seq 3)."""
    base = attendee(first_entry_at=EARLIER, inside_lists=1, inside_since=EARLIER, stay_seq=3)
    return dataclasses.replace(base, **changes)


def left(**changes: Any) -> PassState:
    """A pass that entered once and has left again."""
    return dataclasses.replace(attendee(first_entry_at=EARLIER), **changes)


def door(list_id: int = 1, **changes: Any) -> ListState:
    """A list for everybody: one entry, re-entry after exit allowed; the pass never entered it."""
    base = ListState(
        id=list_id,
        include_volunteers=True,
        include_attendees=True,
        allow_multiple_entries=False,
        allow_entry_after_exit=True,
        has_shifts=False,
        pass_shift_on=False,
    )
    return dataclasses.replace(base, **changes)


def inside(lst: ListState) -> ListState:
    return dataclasses.replace(lst, presence_id=11, inside=True, entries=1, last_entry_at=EARLIER)


def outside(lst: ListState) -> ListState:
    return dataclasses.replace(lst, presence_id=11, inside=False, entries=1, last_entry_at=EARLIER)


def a_scan(kind: str = "entry", **changes: Any) -> Scan:
    return dataclasses.replace(Scan(kind=kind, at=NOW, nonce="nonce-0001"), **changes)


def run(
    *,
    holder: PassState | None = attendee(),
    lists: list[ListState] | None = None,
    scan: Scan | None = None,
    window: Window | None = WINDOW,
) -> Decision:
    """``decide`` for an attendee's fresh pass, one list for everybody, an entry now, unless told."""
    return decide(
        scan=scan or a_scan(), holder=holder, lists=[door()] if lists is None else lists, window=window
    )


# --- every reason code -------------------------------------------------------------------------------

REFUSALS = [
    ("a forged secret, or one of another event", dict(holder=None), "invalid"),
    ("a voided pass", dict(holder=attendee(void=True)), "revoked"),
    ("the old secret of a re-issued pass", dict(holder=attendee(secret_revoked=True)), "revoked"),
    (
        "the chosen list does not take attendees",
        dict(lists=[door(include_attendees=False)], scan=a_scan(list_id=1)),
        "not_on_list",
    ),
    (
        "no list takes volunteers",
        dict(holder=volunteer(), lists=[door(include_volunteers=False)]),
        "not_on_list",
    ),
    (
        "a volunteer of a shift the list does not count",
        dict(holder=volunteer(), lists=[door(has_shifts=True, pass_shift_on=False)]),
        "not_on_list",
    ),
    ("the event has no list", dict(lists=[]), "not_on_list"),
    ("two lists take the pass and none is chosen", dict(lists=[door(1), door(2)]), "ambiguous"),
    ("a blocked pass", dict(holder=attendee(blocked=True)), "blocked"),
    ("before the window opens", dict(scan=a_scan(at=WINDOW.opens - timedelta(seconds=1))), "invalid_time"),
    ("after the window closes", dict(scan=a_scan(at=WINDOW.closes + timedelta(seconds=1))), "invalid_time"),
    (
        "after the secret's last valid day",
        dict(scan=a_scan(valid_until=NOW.date() - timedelta(days=1))),
        "invalid_time",
    ),
    ("the pass is inside already", dict(holder=entered(), lists=[inside(door())]), "already_redeemed"),
    (
        "the pass left and the list forbids entry after exit",
        dict(holder=left(), lists=[outside(door(allow_entry_after_exit=False))]),
        "already_redeemed",
    ),
]


@pytest.mark.parametrize(("case", "given_", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_name_their_reason_and_change_nothing(case, given_, reason):
    decision = run(**given_)
    assert decision.reason == reason and not decision.ok
    assert decision.deltas == Deltas() and decision.stay is None


def test_every_reason_code_is_covered():
    assert {r[2] for r in REFUSALS} == set(Reason.values)


def test_a_list_of_another_event_is_an_error_not_a_decision():
    with pytest.raises(ListNotOfEvent) as info:
        run(scan=a_scan(list_id=99))
    assert info.value.details == {"list": 99, "nonce": "nonce-0001"}
    with pytest.raises(ListNotOfEvent):  # before the secret is even looked at
        run(holder=None, scan=a_scan(list_id=99))


def test_a_refusal_is_recorded_on_the_chosen_list():
    chosen = door(2, include_attendees=False)
    assert run(lists=[door(1), chosen], scan=a_scan(list_id=2)).list == chosen
    assert run(holder=attendee(void=True), lists=[door(1), chosen], scan=a_scan(list_id=2)).list == chosen
    assert run(lists=[door(1), door(2)]).list is None  # ambiguous: no list to record it on


def test_already_redeemed_refers_to_the_entry():
    assert run(holder=entered(), lists=[inside(door())]).entry_at == EARLIER


# --- the order the rules apply in -------------------------------------------------------------------

ORDER = [
    ("invalid before everything", dict(holder=None, lists=[]), "invalid"),
    (
        "revoked before list, block and time",
        dict(
            holder=attendee(void=True, blocked=True),
            lists=[],
            scan=a_scan(at=WINDOW.closes + timedelta(days=1)),
        ),
        "revoked",
    ),
    (
        "not on the list before blocked",
        dict(holder=attendee(blocked=True), lists=[door(include_attendees=False)]),
        "not_on_list",
    ),
    ("ambiguous before blocked", dict(holder=attendee(blocked=True), lists=[door(1), door(2)]), "ambiguous"),
    (
        "blocked before the time",
        dict(holder=attendee(blocked=True), scan=a_scan(at=WINDOW.closes + timedelta(hours=1))),
        "blocked",
    ),
    (
        "the time before already redeemed",
        dict(holder=entered(), lists=[inside(door())], scan=a_scan(at=WINDOW.closes + timedelta(hours=1))),
        "invalid_time",
    ),
]


@pytest.mark.parametrize(("case", "given_", "reason"), ORDER, ids=[r[0] for r in ORDER])
def test_the_first_rule_that_applies_wins(case, given_, reason):
    assert run(**given_).reason == reason


EXITS_NEVER_REFUSED = [
    ("blocked", dict(holder=entered(blocked=True), lists=[inside(door())])),
    (
        "outside the window",
        dict(holder=entered(), lists=[inside(door())], scan=a_scan("exit", at=NOW + timedelta(days=2))),
    ),
    (
        "expired secret",
        dict(
            holder=entered(),
            lists=[inside(door())],
            scan=a_scan("exit", valid_until=NOW.date() - timedelta(days=9)),
        ),
    ),
    (
        "left already, re-entry forbidden",
        dict(holder=left(), lists=[outside(door(allow_entry_after_exit=False))]),
    ),
]


@pytest.mark.parametrize(("case", "given_"), EXITS_NEVER_REFUSED, ids=[r[0] for r in EXITS_NEVER_REFUSED])
def test_an_exit_is_never_refused_for_the_pass_time_or_entries(case, given_):
    given_.setdefault("scan", a_scan("exit"))
    assert run(**given_).ok


# --- what an admitted scan changes -----------------------------------------------------------------


def test_first_entry_counts_everywhere_and_begins_a_stay():
    decision = run()
    assert decision.ok and decision.list == door() and decision.entry_at == NOW
    assert decision.deltas == Deltas(event_checked_in=1, event_inside=1, list_checked_in=1, list_inside=1)
    stay = decision.stay
    assert stay is not None and stay.presence == "insert" and stay.new_stay and not stay.ended
    assert (stay.first_entry_at, stay.inside_lists, stay.inside_since) == (NOW, 1, NOW)


def test_entry_after_exit_is_inside_again_but_not_checked_in_twice():
    decision = run(holder=left(), lists=[outside(door())])
    assert decision.ok
    assert decision.deltas == Deltas(event_inside=1, list_inside=1)
    assert decision.stay is not None and decision.stay.presence == "enter" and decision.stay.new_stay
    assert decision.stay.first_entry_at == EARLIER


def test_another_entry_while_inside_changes_no_count_where_the_list_allows_it():
    decision = run(holder=entered(), lists=[inside(door(allow_multiple_entries=True))])
    assert decision.ok and decision.deltas == Deltas() and decision.entry_at == NOW
    stay = decision.stay
    assert stay is not None and stay.presence == "enter" and not stay.new_stay
    assert (stay.inside_lists, stay.inside_since, stay.stay_seq) == (1, EARLIER, 3)


def test_entry_on_a_second_list_counts_for_that_list_only():
    hall = door(2)
    decision = run(holder=entered(), lists=[inside(door(1)), hall], scan=a_scan(list_id=2))
    assert decision.ok and decision.list == hall
    assert decision.deltas == Deltas(list_checked_in=1, list_inside=1)
    assert decision.stay is not None and decision.stay.inside_lists == 2 and not decision.stay.new_stay
    assert decision.stay.inside_since == EARLIER


def test_volunteer_of_a_counted_shift_is_admitted():
    assert run(holder=volunteer(), lists=[door(has_shifts=True, pass_shift_on=True)]).ok


def test_the_one_list_that_takes_the_pass_is_chosen_for_it():
    staff = door(2, include_attendees=False)
    assert run(lists=[staff, door(3)]).list == door(3)


def test_last_exit_ends_the_stay():
    decision = run(holder=entered(), lists=[inside(door())], scan=a_scan("exit"))
    assert decision.ok and decision.entry_at == EARLIER
    assert decision.deltas == Deltas(event_inside=-1, list_inside=-1)
    stay = decision.stay
    assert stay is not None and stay.presence == "exit" and stay.ended and stay.exit_at == NOW
    assert (stay.inside_lists, stay.inside_since, stay.stay_seq) == (0, None, None)


def test_exit_from_one_of_two_lists_keeps_the_stay():
    pass_state = entered(inside_lists=2)
    decision = run(
        holder=pass_state, lists=[inside(door(1)), inside(door(2))], scan=a_scan("exit", list_id=2)
    )
    assert decision.deltas == Deltas(list_inside=-1)
    assert decision.stay is not None and not decision.stay.ended and decision.stay.inside_lists == 1
    assert decision.stay.inside_since == EARLIER


def test_exit_without_entry_is_admitted_and_changes_nothing():
    decision = run(scan=a_scan("exit"))
    assert decision.ok and decision.entry_at is None
    assert decision.deltas == Deltas() and decision.stay is None


def test_the_window_edges_are_inside():
    assert run(scan=a_scan(at=WINDOW.opens)).ok and run(scan=a_scan(at=WINDOW.closes)).ok
    assert run(scan=a_scan(valid_until=NOW.date())).ok


# --- properties ------------------------------------------------------------------------------------

times = st.sampled_from(
    [
        WINDOW.opens - timedelta(minutes=1),
        WINDOW.opens,
        NOW,
        WINDOW.closes,
        WINDOW.closes + timedelta(minutes=1),
    ]
)


@st.composite
def list_rules(draw: Any, list_id: int) -> ListState:
    return door(
        list_id,
        include_volunteers=draw(st.booleans()),
        include_attendees=draw(st.booleans()),
        allow_multiple_entries=draw(st.booleans()),
        allow_entry_after_exit=draw(st.booleans()),
        has_shifts=draw(st.booleans()),
        pass_shift_on=draw(st.booleans()),
    )


@st.composite
def doors(draw: Any) -> list[ListState]:
    count = draw(st.integers(min_value=0, max_value=3))
    return [draw(list_rules(i)) for i in range(1, count + 1)]


@st.composite
def scenes(draw: Any) -> tuple[PassState | None, list[ListState], Scan]:
    lists = draw(doors())
    presences = [
        dataclasses.replace(
            lst, presence_id=lst.id, inside=True, entries=draw(st.integers(1, 3)), last_entry_at=EARLIER
        )
        if draw(st.booleans())
        else lst
        for lst in lists
    ]
    inside_lists = sum(lst.holds_inside for lst in presences)
    entered_ever = any(lst.present for lst in presences)
    pass_state = draw(
        st.none()
        | st.builds(
            attendee,
            kind=st.sampled_from(["attendee", "volunteer"]),
            void=st.booleans(),
            secret_revoked=st.booleans(),
            blocked=st.booleans(),
            first_entry_at=st.just(EARLIER if entered_ever else None),
            inside_lists=st.just(inside_lists),
            inside_since=st.just(EARLIER if inside_lists else None),
        )
    )
    chosen = draw(st.none() | st.sampled_from([lst.id for lst in presences] or [None]))
    kind = draw(st.sampled_from(["entry", "exit"]))
    return pass_state, presences, a_scan(kind, at=draw(times), list_id=chosen)


@given(scenes())
def test_refused_scans_change_nothing_and_admitted_ones_name_a_list_that_takes_the_pass(scene):
    pass_state, lists, the_scan = scene
    decision = decide(scan=the_scan, holder=pass_state, lists=lists, window=WINDOW)
    if decision.ok:
        assert pass_state is not None and decision.list is not None and decision.list.admits(pass_state)
    else:
        assert decision.deltas == Deltas() and decision.stay is None
    if the_scan.kind == "exit":
        assert decision.reason in {"", "invalid", "revoked", "not_on_list", "ambiguous"}


class Door:
    """One pass at an event's lists, kept the way the store keeps it, scan after scan."""

    def __init__(self, pass_state: PassState, lists: list[ListState]) -> None:
        self.pass_state = pass_state
        self.lists = {lst.id: lst for lst in lists}
        self.counts = {"checked_in": 0, "inside": 0}
        self.list_counts = {lst.id: {"checked_in": 0, "inside": 0} for lst in lists}
        self.seq = 0

    def scan(self, the_scan: Scan) -> Decision:
        decision = decide(
            scan=the_scan, holder=self.pass_state, lists=list(self.lists.values()), window=WINDOW
        )
        self.seq += 1
        lst, stay, deltas = decision.list, decision.stay, decision.deltas
        self.counts["checked_in"] += deltas.event_checked_in
        self.counts["inside"] += deltas.event_inside
        if lst is not None:
            self.list_counts[lst.id]["checked_in"] += deltas.list_checked_in
            self.list_counts[lst.id]["inside"] += deltas.list_inside
        if lst is not None and stay is not None:
            if stay.presence == "exit":
                moved = dataclasses.replace(lst, inside=False)
            else:
                moved = dataclasses.replace(
                    lst, presence_id=lst.id, inside=True, entries=lst.entries + 1, last_entry_at=the_scan.at
                )
            self.lists[lst.id] = moved
            self.pass_state = dataclasses.replace(
                self.pass_state,
                first_entry_at=stay.first_entry_at,
                inside_lists=stay.inside_lists,
                inside_since=stay.inside_since,
                stay_seq=self.seq if stay.new_stay else stay.stay_seq,
            )
        return decision

    def check(self) -> None:
        lists = self.lists.values()
        state = self.pass_state
        assert state.inside_lists == sum(lst.holds_inside for lst in lists)
        assert self.counts == {
            "checked_in": int(state.first_entry_at is not None),
            "inside": int(state.inside_lists > 0),
        }
        for lst in lists:
            assert self.list_counts[lst.id] == {
                "checked_in": int(lst.entries > 0),
                "inside": int(lst.holds_inside),
            }
        assert (state.inside_since is None) == (state.inside_lists == 0) == (state.stay_seq is None)


@settings(max_examples=200)
@given(
    pass_state=st.builds(attendee, kind=st.sampled_from(["attendee", "volunteer"]), blocked=st.booleans()),
    lists=doors(),
    steps=st.lists(
        st.tuples(st.sampled_from(["entry", "exit"]), st.integers(min_value=0, max_value=3), times),
        max_size=12,
    ),
)
def test_counters_follow_presence_over_any_run_of_scans(pass_state, lists, steps):
    door_ = Door(pass_state, lists)
    for kind, choice, at in steps:
        list_id = choice if choice in door_.lists else None
        decision = door_.scan(a_scan(kind, at=at, list_id=list_id))
        if decision.reason == "already_redeemed":  # only ever for a list the pass entered
            assert decision.list is not None and decision.list.entries > 0
        door_.check()
