"""After the live call: the thread is asked once whether it happened; the call's interviewers
and recruiters mark it; the marks and the bookings feed /hire stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.errors import IllegalTransition, NotAllowed
from bot.flows import booking, call_outcomes, reports
from bot.flows.availability import Interval
from bot.flows.buttons import CallOutcome, StaleButton
from bot.flows.visibility import Viewer
from storage.models import Booking, BookingOutcome, Interview
from tests.helpers.flows import RECRUITER, THREAD_POST, FlowWorld

ALEX, BEA, TOM = "U0ALEX", "U0BEA", "U0TOM"
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
THREAD_EDIT = "review.thread.edit"


def _booked(world: FlowWorld, name: str, start: datetime, *interviewers: str) -> tuple[int, int]:
    """An invited candidate with a call booked; returns (interview id, booking id)."""
    who = world.invite(name)

    def book(session: Session, now: datetime) -> int:
        made = booking.book(
            session,
            interview_id=who.interview_id,
            interviewers=list(interviewers or (ALEX,)),
            slot=Interval(start, start + HALF_HOUR),
            now=now,
        )
        assert made.id is not None
        return made.id

    return who.interview_id, world.run(book)


def _ask(world: FlowWorld, at: datetime) -> int:
    world.now = at
    return world.run(call_outcomes.ask)


def _mark(world: FlowWorld, call: int, outcome: BookingOutcome, by: str) -> str:
    return world.run(
        lambda s, now: call_outcomes.mark(
            s, booking_id=call, outcome=outcome, by=by, recruiters=[RECRUITER], now=now
        )
    )


def _call(world: FlowWorld, call: int) -> Booking:
    return world.read(lambda s: s.get_one(Booking, call))


def test_the_thread_is_asked_once_after_the_call_ends_with_held_and_no_show_buttons(
    world: FlowWorld,
) -> None:
    world.opening()
    interview_id, call = _booked(world, "Jane Doe", MONDAY_10, ALEX, BEA)
    assert _ask(world, MONDAY_10 + timedelta(minutes=29)) == 0  # still on
    assert _ask(world, MONDAY_10 + HALF_HOUR) == 1
    assert _ask(world, MONDAY_10 + timedelta(hours=2)) == 0  # once

    (post,) = [r.payload for r in world.outbox(THREAD_POST) if r.payload.get("choices")]
    assert post["interview_id"] == interview_id
    assert post["text"].startswith("📞 Did the live call on <!date^")
    assert "|Mon 30 Nov 2026, 10:00 UTC> happen?" in post["text"]
    assert [c["label"] for c in post["choices"]] == ["✅ Held", "🚫 No-show"]
    pressed = [CallOutcome.unpack(c["data"]) for c in post["choices"]]
    assert pressed == [
        CallOutcome(BookingOutcome.HELD, call),
        CallOutcome(BookingOutcome.NO_SHOW, call),
    ]


def test_a_cancelled_call_is_not_asked_about_and_a_moved_one_is_asked_at_its_new_end(
    world: FlowWorld,
) -> None:
    world.opening()
    _, gone = _booked(world, "Jane Doe", MONDAY_10)
    world.run(lambda s, now: booking.cancel(s, booking_id=gone, now=now))
    _, moved = _booked(world, "John Roe", MONDAY_10 + timedelta(hours=2))
    later = MONDAY_10 + timedelta(days=1)
    world.run(
        lambda s, now: booking.reschedule(
            s, booking_id=moved, slot=Interval(later, later + HALF_HOUR), now=now
        )
    )
    assert _ask(world, MONDAY_10 + timedelta(hours=3)) == 0
    assert _ask(world, later + HALF_HOUR) == 1


def test_an_interviewer_marks_the_call_and_the_post_shows_who_marked_what(
    world: FlowWorld,
) -> None:
    world.opening()
    interview_id, call = _booked(world, "Jane Doe", MONDAY_10, ALEX, BEA)
    _ask(world, MONDAY_10 + HALF_HOUR)
    world.advance(minutes=5)

    assert _mark(world, call, BookingOutcome.HELD, ALEX) == ""
    marked = _call(world, call)
    assert (marked.outcome, marked.outcome_by, marked.outcome_at) == ("held", ALEX, world.now)
    (edit,) = [r.payload for r in world.outbox(THREAD_EDIT)]
    assert edit["interview_id"] == interview_id
    assert f"✅ <@{ALEX}> marked it *held* on <!date^" in edit["text"]
    assert len(edit["choices"]) == 2  # kept, for a correction

    # The same answer again changes nothing, whoever presses it.
    assert _mark(world, call, BookingOutcome.HELD, BEA) == (
        f"<@{ALEX}> already marked this call held."
    )
    assert len(world.outbox(THREAD_EDIT)) == 1
    # Another interviewer may not overrule Alex; Alex and a recruiter may correct it.
    with pytest.raises(NotAllowed, match=f"<@{ALEX}> marked this call held"):
        _mark(world, call, BookingOutcome.NO_SHOW, BEA)
    assert _mark(world, call, BookingOutcome.NO_SHOW, ALEX) == ""
    assert _call(world, call).outcome == "no_show"
    assert "corrected it to *a no-show*" in world.outbox(THREAD_EDIT)[-1].payload["text"]
    assert _mark(world, call, BookingOutcome.HELD, RECRUITER) == ""
    assert (_call(world, call).outcome, _call(world, call).outcome_by) == ("held", RECRUITER)


def test_a_teammate_who_was_not_on_the_call_cannot_mark_it_nor_can_anyone_before_it_ends(
    world: FlowWorld,
) -> None:
    world.opening()
    _, call = _booked(world, "Jane Doe", MONDAY_10, ALEX)
    world.now = MONDAY_10 + timedelta(minutes=10)
    # A forged press while the call is still on.
    with pytest.raises(IllegalTransition, match="has not ended yet"):
        _mark(world, call, BookingOutcome.NO_SHOW, ALEX)
    world.now = MONDAY_10 + timedelta(hours=1)
    with pytest.raises(NotAllowed, match="Only the call's interviewers or a recruiter"):
        _mark(world, call, BookingOutcome.NO_SHOW, TOM)
    assert _call(world, call).outcome is None

    _, cancelled = _booked(world, "John Roe", MONDAY_10 + timedelta(days=2), ALEX)
    world.run(lambda s, now: booking.cancel(s, booking_id=cancelled, now=now))
    with pytest.raises(IllegalTransition, match="cancelled"):
        _mark(world, cancelled, BookingOutcome.HELD, RECRUITER)
    # Data that is none of these buttons is refused before any flow runs.
    for forged in ("call:maybe:1", "call:held:x", "call:held"):
        with pytest.raises(StaleButton):
            CallOutcome.unpack(forged)


def test_stats_count_offers_bookings_no_shows_and_the_time_from_invite_to_the_call(
    world: FlowWorld,
) -> None:
    world.opening()
    jane, jane_call = _booked(world, "Jane Doe", MONDAY_10)  # invited Thursday noon
    john, john_call = _booked(world, "John Roe", MONDAY_10 + timedelta(hours=1))
    world.advance(days=1)
    _, ann_call = _booked(world, "Ann Lee", MONDAY_10 + timedelta(hours=2))  # invited Friday
    offered_only = world.invite("Max Mustermann")
    world.invite("Not Offered")

    def offer(session: Session, now: datetime) -> None:
        for interview_id in (jane, john, offered_only.interview_id):
            session.get_one(Interview, interview_id).slots_offered_at = now

    world.run(offer)
    world.now = MONDAY_10 + timedelta(hours=3)
    _mark(world, jane_call, BookingOutcome.HELD, ALEX)
    _mark(world, ann_call, BookingOutcome.HELD, ALEX)
    _mark(world, john_call, BookingOutcome.NO_SHOW, ALEX)

    viewer = Viewer(user=RECRUITER, recruiter=True)
    calls = world.read(lambda s: reports.stats(s, "backend-engineer", viewer).calls)
    # Ann booked without an offer on record: a booking needs one, so she counts as offered.
    assert (calls.offered, calls.booked, calls.held, calls.no_show) == (4, 3, 2, 1)
    assert calls.booking_rate == 0.75
    assert calls.no_show_rate == pytest.approx(1 / 3)
    # Jane: Thursday noon → Monday 10:00 (3 d 22 h); Ann: Friday noon → Monday 12:00 (3 d).
    assert calls.median_to_call == timedelta(days=3, hours=11)
    text = world.read(lambda s: reports.stats_text(s, "backend-engineer", viewer))
    assert (
        "Live calls: offered 4 · booked 3 (booking rate 75%) · held 2 · no-show 1 "
        "(no-show rate 33%)"
    ) in text
    assert "Median time from invite to live call: 3 days 11 h (calls marked held)" in text


def test_stats_without_calls_say_n_a_and_only_count_what_the_viewer_reviews(
    world: FlowWorld,
) -> None:
    world.opening()
    secret = world.opening("secret-role", review_channel="C0SECRET")
    world.invite("Jane Doe")
    world.invite("Sam Secret", opening="secret-role")
    sam = world.read(lambda s: s.exec(select(Interview)).all()[-1])
    world.run(
        lambda s, now: booking.book(
            s,
            interview_id=sam.id or 0,
            interviewers=[ALEX],
            slot=Interval(MONDAY_10, MONDAY_10 + HALF_HOUR),
            now=now,
        )
    )
    assert sam.opening_id == secret.id
    teammate = Viewer(user=TOM, recruiter=False, channels=frozenset({"C0REVIEW01"}))
    text = world.read(lambda s: reports.stats_text(s, None, teammate))
    assert "Live calls: offered 0 · booked 0 (booking rate n/a) · held 0 · no-show 0" in text
    assert "(no-show rate n/a)" in text
    assert "Median time from invite to live call: n/a" in text
    recruiter = Viewer(user=RECRUITER, recruiter=True)
    calls = world.read(lambda s: reports.stats(s, None, recruiter).calls)
    assert (calls.offered, calls.booked) == (1, 1)


def test_a_no_show_given_a_new_time_is_asked_about_again_and_marked_afresh(
    world: FlowWorld,
) -> None:
    world.opening()
    _, call = _booked(world, "Jane Doe", MONDAY_10, ALEX, BEA)
    _ask(world, MONDAY_10 + HALF_HOUR)
    _mark(world, call, BookingOutcome.NO_SHOW, ALEX)
    world.advance(minutes=10)  # the recruiter gives Jane another time
    later = MONDAY_10 + timedelta(days=2)
    world.run(
        lambda s, now: booking.reschedule(
            s, booking_id=call, slot=Interval(later, later + HALF_HOUR), now=now
        )
    )
    assert _ask(world, later + HALF_HOUR) == 1
    questions = [r.payload for r in world.outbox(THREAD_POST) if r.payload.get("choices")]
    assert len(questions) == 2 and "Wed 02 Dec 2026, 10:00 UTC" in questions[1]["text"]
    # Bea was on the new call too: her mark is the first of it, not a change of Alex's.
    assert _mark(world, call, BookingOutcome.HELD, BEA) == ""
    assert (_call(world, call).outcome, _call(world, call).outcome_by) == ("held", BEA)
    assert "marked it *held*" in world.outbox(THREAD_EDIT)[-1].payload["text"]
