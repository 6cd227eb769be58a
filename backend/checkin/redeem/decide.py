"""The check-in decision: what one scan means, from what the database holds. Pure: no queries.

``decide`` answers in this order, the first rule that applies wins (pretix's ``perform_checkin``):

1. the scan names a list of another event → ``ListNotOfEvent`` (an error, not a recorded row);
2. the secret is not genuine, or names no pass of this event → ``invalid``;
3. the secret was revoked (its pass voided, or a new secret issued) → ``revoked``;
4. list membership: the chosen list does not admit the pass, or no list does → ``not_on_list``;
   no list chosen and several admit it → ``ambiguous``;
5. entries only (an exit is never refused: people must be able to leave):
   the pass is blocked → ``blocked``; the scan is outside the event's check-in window or after
   the secret's last valid day → ``invalid_time``; the pass already entered this list and the
   list allows neither several entries nor, once it has left, entry after exit →
   ``already_redeemed``;
6. otherwise admitted, with what the scan changes: the event's and the list's counters, the
   pass's presence on the list and its stay (first entry to last exit; a volunteer's stay
   becomes a service record when it ends). An exit of a pass that is not inside is admitted
   and changes nothing.

Before any of this, a nonce already recorded answers with its row (a repeat: the offline queue
uploaded twice, a reply lost) only when it is the same scan: the same pass (or, for a secret that
names none, again none) and the same kind (``same_scan``). A nonce reused with another pass's
secret, or for an exit after an entry, raises ``NonceReused`` (409 ``nonce_reused``): never the
other scan's result, and nothing recorded, since the nonce names one row (pretix treats a nonce as
a repeat only for the same ticket).

A forced entry (an offline device admitted the person on its own) is recorded as it happened:
when the rules above refuse it and the pass and a list are known, it is admitted all the same
and the reason becomes its ``conflict``; without a pass or a list it stays refused, flagged too.

The caller (``backend.checkin.services.scans``) reads the state with the pass row locked
(``backend.checkin.redeem.store``) and writes what the decision says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.utils import timezone

from backend.checkin.errors import ListNotOfEvent
from backend.checkin.models import Kind, Pass, Reason


@dataclass(frozen=True)
class Scan:
    """What the scanner says, as the decision needs it."""

    kind: str  # Kind.ENTRY | Kind.EXIT
    at: datetime  # when the scan counts: the scanner's time, never later than its arrival here
    list_id: int | None = None  # the list the scanner chose, if any
    nonce: str = ""  # named in the unknown-list error
    valid_until: date | None = None  # the last valid day signed into the secret
    forced: bool = False  # the device admitted this entry offline: record it as it happened


@dataclass(frozen=True)
class PassState:
    """The pass a genuine secret names on this event, as read with its row locked."""

    kind: str  # Pass.Kind
    shift_id: int | None
    void: bool
    blocked: bool
    first_entry_at: datetime | None
    inside_lists: int  # lists it is inside on now
    inside_since: datetime | None  # start of the current stay
    stay_seq: int | None  # seq of the scan that began the current stay
    secret_revoked: bool = False  # the secret is an old one, on the event's revoked list


@dataclass(frozen=True)
class ListState:
    """One check-in list of the event: its rules, and the scanned pass's presence on it."""

    id: int
    include_volunteers: bool
    include_attendees: bool
    allow_multiple_entries: bool
    allow_entry_after_exit: bool
    has_shifts: bool  # volunteer passes count only for the list's shifts
    pass_shift_on: bool  # the pass's shift is one of them
    presence_id: int | None = None  # None: the pass never entered this list
    inside: bool = False
    entries: int = 0
    last_entry_at: datetime | None = None
    last_entry_gate: str = ""

    @property
    def present(self) -> bool:
        return self.presence_id is not None

    @property
    def holds_inside(self) -> bool:
        """The pass is inside on this list now."""
        return self.present and self.inside

    def admits(self, holder: PassState) -> bool:
        return list_admits(
            kind=holder.kind,
            include_volunteers=self.include_volunteers,
            include_attendees=self.include_attendees,
            has_shifts=self.has_shifts,
            counts_shift=self.pass_shift_on,
        )


def list_admits(
    *, kind: str, include_volunteers: bool, include_attendees: bool, has_shifts: bool, counts_shift: bool
) -> bool:
    """Whether a list takes a pass of this kind: attendees where it includes attendees, volunteers
    where it includes volunteers and counts their shift (a list without shifts counts them all).
    The offline bundle applies the same rule for scanners that decide without us."""
    if kind == Pass.Kind.VOLUNTEER:
        return include_volunteers and (not has_shifts or counts_shift)
    return include_attendees


@dataclass(frozen=True)
class Window:
    """The event's check-in window."""

    opens: datetime
    closes: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.opens <= at <= self.closes


@dataclass(frozen=True)
class Deltas:
    """What an admitted scan adds to the counters: event-wide (distinct passes) and the list's."""

    event_checked_in: int = 0
    event_inside: int = 0
    list_checked_in: int = 0
    list_inside: int = 0


@dataclass(frozen=True)
class StayChange:
    """What an admitted scan changes on the pass's presence on the list and on the pass."""

    presence: str  # insert | enter | exit
    exit_at: datetime | None
    first_entry_at: datetime | None
    inside_lists: int
    inside_since: datetime | None
    new_stay: bool  # the pass's stay begins with this scan: its stay_seq is the scan's seq
    ended: bool  # the stay ends with this scan (a volunteer's becomes a service record)
    stay_seq: int | None

    def apply(self, pass_obj: Pass, *, seq: int) -> None:
        """Bring an in-memory pass up to date with what was written."""
        pass_obj.first_entry_at = self.first_entry_at
        pass_obj.inside_lists = self.inside_lists
        pass_obj.inside_since = self.inside_since
        pass_obj.stay_seq = seq if self.new_stay else self.stay_seq


@dataclass(frozen=True)
class Decision:
    reason: str  # a Reason; "" when admitted
    list: ListState | None  # the list the scan is recorded on
    entry_at: datetime | None = None  # the entry this scan made, or that it refers to
    deltas: Deltas = Deltas()
    stay: StayChange | None = None  # None: presence and pass stay as they are
    entry_gate: str = ""  # the gate of the entry it refers to (already_redeemed, exit, conflict)
    conflict: str = ""  # a forced entry: the reason we would have refused it for

    @property
    def ok(self) -> bool:
        return not self.reason


def decide(
    *, scan: Scan, holder: PassState | None, lists: Sequence[ListState], window: Window | None
) -> Decision:
    """Admit or refuse one scan. ``holder`` is None when the secret names no pass (forged, of
    another event); ``window`` is None only then or when the secret was revoked."""
    decision = _decide(scan=scan, holder=holder, lists=lists, window=window)
    if scan.forced and scan.kind == Kind.ENTRY and not decision.ok:
        return _forced(decision, holder=holder, lists=lists, scan=scan)
    return decision


def _forced(
    refused: Decision, *, holder: PassState | None, lists: Sequence[ListState], scan: Scan
) -> Decision:
    """A forced entry we would have refused: admitted on the list the device used (or the first
    that takes the pass) with the refusal as its conflict; refused and flagged when there is no
    pass or no list to put it on. ``entry_at``/``entry_gate`` name the earlier entry, if any."""
    lst = refused.list
    if lst is None and holder is not None:
        lst = next((candidate for candidate in lists if candidate.admits(holder)), None)
    if holder is None or lst is None:
        return replace(refused, conflict=refused.reason)
    admitted = _entry(holder, lst, scan)
    if lst.last_entry_at is not None and refused.reason == Reason.ALREADY_REDEEMED:
        admitted = replace(admitted, entry_at=lst.last_entry_at, entry_gate=lst.last_entry_gate)
    return replace(admitted, conflict=refused.reason)


def _decide(
    *, scan: Scan, holder: PassState | None, lists: Sequence[ListState], window: Window | None
) -> Decision:
    chosen = _chosen_list(scan, lists)
    if holder is None:
        return Decision(reason=Reason.INVALID, list=chosen)
    if holder.void or holder.secret_revoked:
        return Decision(reason=Reason.REVOKED, list=chosen)
    lst, reason = _list_for(holder, lists, chosen)
    if lst is None or reason:
        return Decision(reason=reason, list=lst)
    if scan.kind == Kind.ENTRY:
        reason = _entry_refusal(holder, lst, scan, window)
        if reason:
            if reason == Reason.ALREADY_REDEEMED:
                return Decision(
                    reason=reason, list=lst, entry_at=lst.last_entry_at, entry_gate=lst.last_entry_gate
                )
            return Decision(reason=reason, list=lst)
        return _entry(holder, lst, scan)
    return _exit(holder, lst, scan)


def _chosen_list(scan: Scan, lists: Sequence[ListState]) -> ListState | None:
    if scan.list_id is None:
        return None
    for lst in lists:
        if lst.id == scan.list_id:
            return lst
    raise ListNotOfEvent(list=scan.list_id, nonce=scan.nonce)


def _list_for(
    holder: PassState, lists: Sequence[ListState], chosen: ListState | None
) -> tuple[ListState | None, str]:
    """The list the scan counts on, or why there is none."""
    if chosen is not None:
        return chosen, "" if chosen.admits(holder) else Reason.NOT_ON_LIST
    eligible = [lst for lst in lists if lst.admits(holder)]
    if len(eligible) == 1:
        return eligible[0], ""
    return None, Reason.AMBIGUOUS if eligible else Reason.NOT_ON_LIST


def _entry_refusal(holder: PassState, lst: ListState, scan: Scan, window: Window | None) -> str:
    if holder.blocked:
        return Reason.BLOCKED
    if not _in_time(scan, window):
        return Reason.INVALID_TIME
    if _already_redeemed(lst):
        return Reason.ALREADY_REDEEMED
    return ""


def _in_time(scan: Scan, window: Window | None) -> bool:
    if window is None or scan.at not in window:
        return False
    # The secret's own expiry is judged at the scan's time too: an offline scan uploaded late counts.
    return scan.valid_until is None or timezone.localdate(scan.at) <= scan.valid_until


def _already_redeemed(lst: ListState) -> bool:
    if not lst.present or not lst.entries or lst.allow_multiple_entries:
        return False
    return lst.inside or not lst.allow_entry_after_exit


def _entry(holder: PassState, lst: ListState, scan: Scan) -> Decision:
    was_inside = lst.holds_inside
    new_stay = not was_inside and holder.inside_lists == 0
    deltas = Deltas(
        event_checked_in=int(holder.first_entry_at is None),
        event_inside=int(new_stay),
        list_checked_in=int(not lst.present or lst.entries == 0),
        list_inside=int(not was_inside),
    )
    stay = StayChange(
        presence="enter" if lst.present else "insert",
        exit_at=None,
        first_entry_at=holder.first_entry_at or scan.at,
        inside_lists=holder.inside_lists + (0 if was_inside else 1),
        inside_since=scan.at if new_stay else holder.inside_since,
        new_stay=new_stay,
        ended=False,
        stay_seq=holder.stay_seq,
    )
    return Decision(reason="", list=lst, entry_at=scan.at, deltas=deltas, stay=stay)


def _exit(holder: PassState, lst: ListState, scan: Scan) -> Decision:
    if not lst.holds_inside:
        # An exit without an entry is recorded (pretix accepts every exit) and changes nothing.
        return Decision(reason="", list=lst)
    inside_lists = max(0, holder.inside_lists - 1)
    ended = inside_lists == 0
    deltas = Deltas(event_inside=-int(holder.inside_lists == 1), list_inside=-1)
    stay = StayChange(
        presence="exit",
        exit_at=scan.at,
        first_entry_at=holder.first_entry_at,
        inside_lists=inside_lists,
        inside_since=None if ended else holder.inside_since,
        new_stay=False,
        ended=ended,
        stay_seq=None if ended else holder.stay_seq,
    )
    return Decision(
        reason="",
        list=lst,
        entry_at=lst.last_entry_at,
        entry_gate=lst.last_entry_gate,
        deltas=deltas,
        stay=stay,
    )


def same_scan(*, recorded_pass_id: int | None, recorded_kind: str, pass_id: int | None, kind: str) -> bool:
    """Whether a scan that reuses a recorded nonce repeats that scan (then it answers with the
    recorded row) rather than being another one (``NonceReused``)."""
    return recorded_pass_id == pass_id and recorded_kind == kind
