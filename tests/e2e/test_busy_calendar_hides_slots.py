"""An interviewer's calendar hides the times a candidate is offered, end to end: the feed is
read over HTTP from a local calendar server by the bot's own scheduled job, and the offer the
candidate gets in Telegram (real PTB, Bolt, emulators) leaves out exactly the busy times.

The interviewer is in New York (09:00-12:00, one-hour calls) and the candidate in Tokyo, two
days before New York's clocks go forward: a weekly Monday 09:00 New York meeting (written
with its TZID, so it stays at 09:00 local across the change) and an all-day event on Tuesday
the 16th must hide Monday 22:00 Tokyo and the whole of Tuesday New York.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.flows import interviewer_setup
from bot.sandbox.world import SimulatedClock, World
from storage.models import InterviewerHours, Opening
from tests.e2e.test_booking import _labels, _offered
from tests.helpers.calendar import Calendar, calendar_server, weekday_hours
from tests.helpers.scheduling import FIRST_PAGE, LATER, NEW_YORK, NOW
from tests.helpers.slack import db

BUSY_FEED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hirebot tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART;TZID=America/New_York:20270301T090000\r\n"
    "DTEND;TZID=America/New_York:20270301T100000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Team sync\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:offsite@test\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20270316\r\nDTEND;VALUE=DATE:20270317\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
# The free times without the calendar are FIRST_PAGE, then Tue 16 Mar 00:00 and Tuesday New
# York (Tue 22:00, 23:00, Wed 00:00 Tokyo). With it: Monday 09:00 New York (22:00 Tokyo) and
# all of Tuesday New York are gone.
WITH_CALENDAR = [
    *[label for label in FIRST_PAGE if label != "Mon 15 Mar 2027, 22:00"],
    "Tue 16 Mar 2027, 00:00",
]
SECOND_PAGE = [
    "Wed 17 Mar 2027, 22:00",
    "Wed 17 Mar 2027, 23:00",
    "Thu 18 Mar 2027, 00:00",
    "Thu 18 Mar 2027, 22:00",
    "Thu 18 Mar 2027, 23:00",
]


@pytest.fixture
async def calendar() -> AsyncIterator[Calendar]:
    async with calendar_server() as served:
        served.body = BUSY_FEED
        yield served


def _hours_with_calendar(feed: str) -> Callable[[Session], None]:
    def save(session: Session) -> None:
        session.exec(select(Opening)).one().interviewers = [NEW_YORK]
        entry = weekday_hours("America/New_York", "09:00", "12:00", feed)
        interviewer_setup.save_hours(session, NEW_YORK, entry, NOW)

    return save


async def test_busy_times_in_the_interviewers_calendar_are_not_offered(
    tmp_path: Path, calendar: Calendar
) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW)) as w:
        db(w, _hours_with_calendar(calendar.url))
        await w.bot.read_calendar_feeds()
        row = db(w, lambda s: s.get(InterviewerHours, NEW_YORK))
        assert row is not None and row.feed_error is None and calendar.hits == 1
        # What was kept of the feed: when, never what (no title in the row).
        assert "Team sync" not in str(row.feed_busy) and row.feed_busy

        jane = await _offered(w, 700_401, "Jane Doe")
        offer = await jane.wait_for_message("Next step: a live video interview")
        assert _labels(offer.buttons()) == [*WITH_CALENDAR, LATER]
        await jane.press(LATER, offer)
        more = await jane.wait_for_message("More times for your live interview, in Asia/Tokyo")
        assert _labels(more.buttons())[:5] == SECOND_PAGE


async def test_an_unreadable_calendar_keeps_hiding_what_it_last_showed(
    tmp_path: Path, calendar: Calendar
) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW)) as w:
        db(w, _hours_with_calendar(calendar.url))
        await w.bot.read_calendar_feeds()
        # The calendar breaks (a revoked link); the next scheduled read fails.
        calendar.status, calendar.body = 404, "Not Found"
        clock = w.clock
        assert isinstance(clock, SimulatedClock)
        clock.advance(minutes=20)
        await w.bot.read_calendar_feeds()
        row = db(w, lambda s: s.get(InterviewerHours, NEW_YORK))
        assert row is not None and row.feed_error is not None and calendar.hits == 2

        jane = await _offered(w, 700_402, "Jane Doe")
        offer = await jane.wait_for_message("Next step: a live video interview")
        assert _labels(offer.buttons()) == [*WITH_CALENDAR, LATER]
