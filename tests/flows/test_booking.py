"""Booking the live call: one interviewer is never in two live calls, on either database,
even when candidates press at the same moment on different connections."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, InvalidRequest
from bot.flows import booking, erasure, interview, openings
from bot.flows.availability import Interval
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork
from storage.models import Booking, BookingSeat, BookingStatus, Interview

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TEN = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
ALEX, BEA = "U0ALEX", "U0BEA"


def _slot(start: datetime, length: timedelta = HALF_HOUR) -> Interval:
    return Interval(start, start + length)


def _interviews(uow: UnitOfWork, count: int) -> list[int]:
    spec = openings.parse(OPENING_FILE)
    uow.run_sync(lambda s, now: openings.save(s, spec, now))

    def invite(name: str) -> int:
        return uow.run_sync(
            lambda s, now: interview.invite(
                s, opening_slug=spec.slug, candidate_name=name, invited_by="U1", now=now
            )
        ).interview_id

    return [invite(f"Cand {i}") for i in range(count)]


def _book(uow: UnitOfWork, interview_id: int, slot: Interval, *who: str) -> Booking:
    return uow.run_sync(
        lambda s, now: booking.book(
            s, interview_id=interview_id, interviewers=list(who or [ALEX]), slot=slot, now=now
        )
    )


def _live_seats(uow: UnitOfWork) -> list[tuple[str, datetime, int]]:
    def read(session: Session, _now: datetime) -> list[tuple[str, datetime, int]]:
        seats = session.exec(select(BookingSeat).where(col(BookingSeat.live).is_(True))).all()
        return sorted((s.interviewer, s.starts_at, s.booking_id) for s in seats)

    return uow.run_sync(read)


@pytest.fixture
def at_noon(uow: UnitOfWork) -> UnitOfWork:
    uow.now = lambda: NOW
    return uow


def test_a_booking_holds_each_interviewers_seat_and_a_taken_slot_changes_nothing(
    at_noon: UnitOfWork,
) -> None:
    jane, john = _interviews(at_noon, 2)
    first = _book(at_noon, jane, _slot(TEN), ALEX, BEA)
    assert (first.status, first.sequence, first.uid.endswith("@hirebot")) == ("booked", 0, True)
    assert _live_seats(at_noon) == [(ALEX, TEN, first.id), (BEA, TEN, first.id)]

    # Bea is busy 10:00-10:30: a 10:15 call with her alone is refused, and so is Jane again.
    with pytest.raises(booking.SlotTaken, match="just taken"):
        _book(at_noon, john, _slot(TEN + timedelta(minutes=15)), BEA)
    with pytest.raises(IllegalTransition, match="already booked"):
        _book(at_noon, jane, _slot(TEN + timedelta(hours=2)), ALEX)
    assert _live_seats(at_noon) == [(ALEX, TEN, first.id), (BEA, TEN, first.id)]
    # Back to back is fine: the slots are half-open.
    second = _book(at_noon, john, _slot(TEN + HALF_HOUR), BEA)
    assert second.id != first.id


def test_bad_slots_are_refused_with_a_reason(at_noon: UnitOfWork) -> None:
    (jane,) = _interviews(at_noon, 1)
    with pytest.raises(InvalidRequest, match="passed"):
        _book(at_noon, jane, _slot(NOW - timedelta(hours=1)))
    with pytest.raises(InvalidRequest, match="no interviewer"):
        at_noon.run_sync(
            lambda s, now: booking.book(
                s, interview_id=jane, interviewers=[], slot=_slot(TEN), now=now
            )
        )
    with pytest.raises(InvalidRequest, match="twice"):
        _book(at_noon, jane, _slot(TEN), ALEX, ALEX)
    assert _live_seats(at_noon) == []


def test_reschedule_keeps_the_invitation_and_frees_the_old_time_and_cancel_frees_it_all(
    at_noon: UnitOfWork,
) -> None:
    jane, john = _interviews(at_noon, 2)
    held = _book(at_noon, jane, _slot(TEN), ALEX)
    later = TEN + timedelta(hours=1)
    moved = at_noon.run_sync(
        lambda s, now: booking.reschedule(s, booking_id=held.id or 0, slot=_slot(later), now=now)
    )
    assert (moved.uid, moved.sequence, moved.starts_at) == (held.uid, 1, later)
    assert _live_seats(at_noon) == [(ALEX, later, held.id)]
    _book(at_noon, john, _slot(TEN), ALEX)  # the old time is free again

    # Moving onto John's time is refused, and Jane keeps her time.
    with pytest.raises(booking.SlotTaken):
        at_noon.run_sync(
            lambda s, now: booking.reschedule(s, booking_id=held.id or 0, slot=_slot(TEN), now=now)
        )
    assert (ALEX, later, held.id) in _live_seats(at_noon)

    gone = at_noon.run_sync(lambda s, now: booking.cancel(s, booking_id=held.id or 0, now=now))
    assert (gone.status, gone.sequence) == (BookingStatus.CANCELLED, 2)
    assert [seat[1] for seat in _live_seats(at_noon)] == [TEN]
    with pytest.raises(IllegalTransition, match="cancelled already"):
        at_noon.run_sync(lambda s, now: booking.cancel(s, booking_id=held.id or 0, now=now))


def _race(uow: UnitOfWork, picks: list[tuple[int, Interval]]) -> list[str]:
    """Every pick at once, each on its own connection; what each one got."""
    start = threading.Barrier(len(picks))
    outcome: list[str] = [""] * len(picks)

    def pick(i: int, interview_id: int, slot: Interval) -> None:
        start.wait(10)
        try:
            _book(uow, interview_id, slot)
            outcome[i] = "booked"
        except booking.SlotTaken:
            outcome[i] = "taken"

    threads = [
        threading.Thread(target=pick, args=(i, interview_id, slot))
        for i, (interview_id, slot) in enumerate(picks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def test_candidates_pressing_overlapping_slots_at_once_get_one_call(at_noon: UnitOfWork) -> None:
    ids = _interviews(at_noon, 6)
    # Six candidates, six overlapping offers of Alex's time (different starts and lengths).
    picks = [(i, _slot(TEN + timedelta(minutes=5 * n), HALF_HOUR)) for n, i in enumerate(ids)]
    outcome = _race(at_noon, picks)
    assert sorted(outcome) == ["booked"] + ["taken"] * 5
    assert len(_live_seats(at_noon)) == 1


def test_the_database_refuses_a_second_seat_even_when_both_checks_read_free(
    at_noon: UnitOfWork, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if every pick had read "free" before any wrote: only the database stands between
    # them. On PostgreSQL the exclusion constraint refuses any overlap; SQLite's unique index
    # refuses the same start (its one writer at a time covers overlaps: the test above).
    monkeypatch.setattr(booking, "_clashes", lambda *_args: False)
    ids = _interviews(at_noon, 4)
    same_start = [(i, _slot(TEN)) for i in ids[:2]]
    assert sorted(_race(at_noon, same_start)) == ["booked", "taken"]
    if database_url.startswith("postgresql"):
        later = TEN + timedelta(hours=2)
        overlapping = [(ids[2], _slot(later)), (ids[3], _slot(later + timedelta(minutes=10)))]
        assert sorted(_race(at_noon, overlapping)) == ["booked", "taken"]
    assert len(_live_seats(at_noon)) == (2 if database_url.startswith("postgresql") else 1)


def test_erasing_the_candidate_cancels_their_call_and_frees_the_time(at_noon: UnitOfWork) -> None:
    jane, john = _interviews(at_noon, 2)
    held = _book(at_noon, jane, _slot(TEN), ALEX, BEA)
    at_noon.run_sync(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, jane), by="the candidate", now=now
        )
    )
    assert at_noon.run_sync(lambda s, _now: s.get_one(Booking, held.id).status) == "cancelled"
    assert _live_seats(at_noon) == []
    _book(at_noon, john, _slot(TEN), ALEX, BEA)  # the time is offered again
