"""Reminders about a booked live call, on a fixed clock: the candidate a day before and shortly
before (quiet hours kept), the interviewers shortly before, each once per booked time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.flows import booking, call_outcomes, call_reminders, interview, openings
from bot.flows.availability import Interval
from bot.flows.interview import TelegramPerson
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork
from storage.models import (
    Booking,
    BookingReminder,
    Candidate,
    Interview,
    Opening,
    OutboxMessage,
)
from tests.helpers.flows import CANDIDATE_TEXT, NOTIFY_USER, THREAD_POST, FlowWorld
from tests.helpers.flows import Candidate as Invited

ALEX, BEA = "U0ALEX", "U0BEA"
CALL_URL = "https://meet.example.org/backend-jane"
# Sunday 29 Nov 2026, 15:00 UTC: three days after the flow world's clock starts (Thursday noon).
SUNDAY_3PM = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def _candidate(world: FlowWorld, *, zone: str | None = None, blind: bool = False) -> Invited:
    world.opening(blind_review=blind)
    jane = world.invite("Jane Doe")
    world.start(jane)  # she opened the link: Telegram reaches her
    if zone is not None:
        world.run(lambda s, _now: _set_zone(s, jane, zone))
    return jane


def _set_zone(session: Session, who: Invited, zone: str) -> None:
    """``/timezone``: the candidate's own zone, for dates and quiet hours."""
    interview = session.get_one(Interview, who.interview_id)
    session.get_one(Candidate, interview.candidate_id).timezone = zone


def _book(world: FlowWorld, who: Invited, start: datetime, *interviewers: str) -> int:
    def book(session: Session, now: datetime) -> int:
        made = booking.book(
            session,
            interview_id=who.interview_id,
            interviewers=list(interviewers or (ALEX, BEA)),
            slot=Interval(start, start + HALF_HOUR),
            now=now,
        )
        made.url = CALL_URL
        assert made.id is not None
        return made.id

    return world.run(book)


def _tick(world: FlowWorld, at: datetime) -> int:
    world.now = at
    return world.run(call_reminders.tick)


def _reminders_to(world: FlowWorld, who: Invited) -> list[str]:
    return [t for t in world.texts_to(who) if "live interview" in t]


def _dms(world: FlowWorld) -> list[dict[str, Any]]:
    return [dict(row.payload) for row in world.outbox(NOTIFY_USER)]


def _recorded(world: FlowWorld, booking_id: int) -> list[tuple[int, str]]:
    return world.read(
        lambda s: [
            (r.sequence, r.rule)
            for r in s.exec(
                select(BookingReminder)
                .where(BookingReminder.booking_id == booking_id)
                .order_by(col(BookingReminder.sequence), col(BookingReminder.rule))
            ).all()
        ]
    )


def test_the_candidate_hears_a_day_before_and_an_hour_before_and_each_interviewer_once(
    world: FlowWorld,
) -> None:
    jane = _candidate(world)
    call = _book(world, jane, SUNDAY_3PM)

    assert _tick(world, SUNDAY_3PM - timedelta(hours=24, minutes=1)) == 0
    assert _reminders_to(world, jane) == []

    assert _tick(world, SUNDAY_3PM - timedelta(hours=23, minutes=59)) == 1
    assert _reminders_to(world, jane) == [
        "Hi Jane, a reminder: your live interview for Backend Engineer is on "
        f"Sun 29 Nov 2026, 15:00 UTC.\nJoin the call here: {CALL_URL}"
    ]
    assert _dms(world) == []  # the interviewers hear an hour before, not a day before
    assert _tick(world, SUNDAY_3PM - timedelta(hours=20)) == 0  # once

    assert _tick(world, SUNDAY_3PM - timedelta(minutes=59)) == 3  # Jane, Alex and Bea
    assert _reminders_to(world, jane)[1] == (
        "Hi Jane, your live interview for Backend Engineer starts soon: "
        f"Sun 29 Nov 2026, 15:00 UTC.\nJoin the call here: {CALL_URL}"
    )
    dms = _dms(world)
    assert [dm["user"] for dm in dms] == [ALEX, BEA]
    for dm in dms:
        assert dm["text"].startswith("⏰ Your live interview with *Jane Doe* (Backend Engineer)")
        assert "|Sun 29 Nov 2026, 15:00 UTC>" in dm["text"]  # Slack shows each their zone
        assert f"Call link: {CALL_URL}" in dm["text"]
        assert dm["thread_link"] == {
            "interview_id": jane.interview_id,
            "label": call_reminders.THREAD_LINK_LABEL,
        }
        assert dm["about"] == [jane.interview_id]  # erasing Jane deletes the DM

    assert _tick(world, SUNDAY_3PM - timedelta(minutes=30)) == 0
    assert _tick(world, SUNDAY_3PM + timedelta(minutes=1)) == 0
    assert len(_reminders_to(world, jane)) == 2 and len(_dms(world)) == 2
    assert _recorded(world, call) == [
        (0, "candidate:1h"),
        (0, "candidate:24h"),
        (0, "interviewers:1h"),
    ]


def test_a_rescheduled_call_is_reminded_again_and_a_cancelled_one_is_not(
    world: FlowWorld,
) -> None:
    jane = _candidate(world)
    call = _book(world, jane, SUNDAY_3PM)
    assert _tick(world, SUNDAY_3PM - timedelta(hours=23)) == 1

    later = SUNDAY_3PM + timedelta(days=1, hours=2)  # Monday 17:00
    world.run(
        lambda s, now: booking.reschedule(
            s, booking_id=call, slot=Interval(later, later + HALF_HOUR), now=now
        )
    )
    # The old time comes and goes without a word; the new one is reminded afresh.
    assert _tick(world, SUNDAY_3PM - timedelta(minutes=59)) == 0
    assert _tick(world, later - timedelta(hours=23, minutes=59)) == 1
    assert "Mon 30 Nov 2026, 17:00 UTC" in _reminders_to(world, jane)[-1]
    assert _tick(world, later - timedelta(minutes=59)) == 3
    assert (1, "candidate:24h") in _recorded(world, call)

    john = world.invite("John Roe")
    world.start(john)
    gone = _book(world, john, later + timedelta(days=1))
    world.run(lambda s, now: booking.cancel(s, booking_id=gone, now=now))
    assert _tick(world, later + timedelta(days=1) - timedelta(hours=23)) == 0
    assert _tick(world, later + timedelta(days=1) - timedelta(minutes=30)) == 0
    assert _reminders_to(world, john) == [] and _recorded(world, gone) == []


def test_a_late_tick_sends_the_hour_reminder_only_and_nothing_once_the_call_started(
    world: FlowWorld,
) -> None:
    jane = _candidate(world)
    call = _book(world, jane, SUNDAY_3PM)
    # The bot was down from Saturday morning until half an hour before the call.
    assert _tick(world, SUNDAY_3PM - HALF_HOUR) == 3
    (only,) = _reminders_to(world, jane)
    assert "starts soon" in only
    assert _recorded(world, call) == [
        (0, "candidate:1h"),
        (0, "candidate:24h"),
        (0, "interviewers:1h"),
    ]

    john = world.invite("John Roe")
    world.start(john)
    missed = _book(world, john, SUNDAY_3PM + timedelta(hours=2), ALEX)
    # Down again until the call had begun: no reminder about a call already under way.
    assert _tick(world, SUNDAY_3PM + timedelta(hours=2, minutes=1)) == 0
    assert _reminders_to(world, john) == [] and _recorded(world, missed) == []


def test_a_call_booked_less_than_a_day_ahead_gets_no_day_before_reminder(
    world: FlowWorld,
) -> None:
    jane = _candidate(world)
    world.now = SUNDAY_3PM - timedelta(hours=13)  # booked 13 h ahead: she was just told
    _book(world, jane, SUNDAY_3PM)
    assert _tick(world, SUNDAY_3PM - timedelta(hours=12)) == 0
    assert _tick(world, SUNDAY_3PM - timedelta(minutes=59)) == 3
    assert ["starts soon" in t for t in _reminders_to(world, jane)] == [True]


def test_quiet_hours_in_tokyo_hold_a_reminder_for_the_morning_unless_the_call_is_at_night(
    world: FlowWorld,
) -> None:
    """Quiet from 21:00 to 08:00 in the candidate's zone (Asia/Tokyo, UTC+9, no DST)."""
    jane = _candidate(world, zone="Asia/Tokyo")
    morning = datetime(2026, 11, 30, 8, 30, tzinfo=UTC) - timedelta(hours=9)  # 08:30 in Tokyo
    _book(world, jane, morning)

    # A day before is 08:30 on Sunday in Tokyo: daytime, sent at once, in her zone.
    assert _tick(world, morning - timedelta(hours=23, minutes=59)) == 1
    assert "Mon 30 Nov 2026, 08:30 Asia/Tokyo" in _reminders_to(world, jane)[0]
    # An hour before is 07:30 in Tokyo: night there. The interviewers hear now; Jane at 08:00.
    assert _tick(world, morning - timedelta(minutes=59)) == 2
    assert len(_reminders_to(world, jane)) == 1
    assert _tick(world, morning - timedelta(minutes=31)) == 0
    assert _tick(world, morning - HALF_HOUR) == 1  # 08:00 in Tokyo
    assert "starts soon" in _reminders_to(world, jane)[1]

    # A call at 22:30 in Tokyo is at night: she will be up for it, so its hour reminder goes
    # at its time (21:30), and its day-before one (22:30 the night before) waits for 08:00.
    john = world.invite("John Roe")
    world.start(john)
    world.run(lambda s, _now: _set_zone(s, john, "Asia/Tokyo"))
    night = datetime(2026, 12, 2, 22, 30, tzinfo=UTC) - timedelta(hours=9)
    _book(world, john, night, BEA)
    assert _tick(world, night - timedelta(hours=23, minutes=59)) == 0  # 22:31 in Tokyo
    assert _tick(world, night - timedelta(hours=15, minutes=1)) == 0  # 07:29
    assert _tick(world, night - timedelta(hours=14, minutes=30)) == 1  # 08:00
    assert "is on Wed 2 Dec 2026, 22:30 Asia/Tokyo" in _reminders_to(world, john)[0]
    assert _tick(world, night - timedelta(minutes=59)) == 2  # 21:31: John and Bea
    assert "starts soon" in _reminders_to(world, john)[1]


def test_a_day_before_reminder_held_for_the_morning_gives_way_to_the_hour_one(
    world: FlowWorld,
) -> None:
    jane = _candidate(world, zone="Asia/Tokyo")
    call = datetime(2026, 11, 30, 8, 30, tzinfo=UTC) - timedelta(hours=9)  # 08:30 in Tokyo
    _book(world, jane, call)
    # The bot was down through the day before; it is back at 07:00 in Tokyo, in quiet hours.
    assert _tick(world, call - timedelta(hours=1, minutes=30)) == 0  # the day-before waits
    assert _tick(world, call - timedelta(minutes=45)) == 2  # 07:45: the interviewers; she waits
    assert _tick(world, call - HALF_HOUR) == 1  # 08:00: one message, the latest
    assert ["starts soon" in t for t in _reminders_to(world, jane)] == [True]


def test_under_blind_review_the_interviewers_read_the_alias(world: FlowWorld) -> None:
    jane = _candidate(world, blind=True)
    _book(world, jane, SUNDAY_3PM, ALEX)
    _tick(world, SUNDAY_3PM - timedelta(minutes=59))
    (dm,) = _dms(world)
    assert f"*Candidate #{jane.interview_id}*" in dm["text"] and "Jane" not in dm["text"]


def test_without_a_call_link_the_reminder_says_only_when_and_the_openings_link_is_used(
    world: FlowWorld,
) -> None:
    jane = _candidate(world)
    call = _book(world, jane, SUNDAY_3PM)
    world.run(lambda s, _now: setattr(s.get_one(Booking, call), "url", ""))
    _tick(world, SUNDAY_3PM - timedelta(hours=23))
    assert _reminders_to(world, jane)[-1].endswith("15:00 UTC.")

    def fixed_room(session: Session, _now: datetime) -> None:
        for opening in session.exec(select(Opening)).all():
            opening.meeting_url = "https://video.example.org/room"

    world.run(fixed_room)
    _tick(world, SUNDAY_3PM - timedelta(minutes=59))
    assert _reminders_to(world, jane)[-1].endswith(
        "Join the call here: https://video.example.org/room"
    )
    assert all(row.kind in (CANDIDATE_TEXT, NOTIFY_USER) for row in world.outbox()[-3:])


def test_ticks_racing_on_two_connections_send_each_reminder_and_question_once(
    uow: UnitOfWork,
) -> None:
    """Two bot processes share one database (SQLite or PostgreSQL): their ticks meet."""
    spec = openings.parse(OPENING_FILE)
    uow.now = lambda: SUNDAY_3PM - timedelta(days=2)
    uow.run_sync(lambda s, now: openings.save(s, spec, now))
    invited = uow.run_sync(
        lambda s, now: interview.invite(
            s, opening_slug=spec.slug, candidate_name="Jane Doe", invited_by="U1", now=now
        )
    )
    person = TelegramPerson(700_900, 700_900, "Jane", "en")
    uow.run_sync(lambda s, now: interview.start(s, token=invited.token, person=person, now=now))
    uow.run_sync(
        lambda s, now: booking.book(
            s,
            interview_id=invited.interview_id,
            interviewers=[ALEX, BEA],
            slot=Interval(SUNDAY_3PM, SUNDAY_3PM + HALF_HOUR),
            now=now,
        )
    )

    def race(work: Callable[[Session, datetime], int]) -> list[int]:
        start = threading.Barrier(4)
        sent: list[int] = []

        def tick() -> None:
            start.wait(10)
            sent.append(uow.run_sync(work))

        threads = [threading.Thread(target=tick) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return sent

    uow.now = lambda: SUNDAY_3PM - timedelta(minutes=59)
    assert sorted(race(call_reminders.tick)) == [0, 0, 0, 3]
    uow.now = lambda: SUNDAY_3PM + timedelta(hours=1)
    assert sorted(race(call_outcomes.ask)) == [0, 0, 0, 1]

    def sent(session: Session, _now: datetime) -> list[str]:
        return [row.kind for row in session.exec(select(OutboxMessage)).all()]

    kinds = uow.run_sync(sent)
    assert kinds.count(NOTIFY_USER) == 2
    assert kinds.count(THREAD_POST) == 1  # the question (the card is a card post)
