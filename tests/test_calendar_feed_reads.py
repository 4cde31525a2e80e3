"""Interviewers' calendar feeds read on a schedule (bot.calendar_feed.FeedReads over
bot.flows.feed_reads), served by a local HTTP server, on SQLite and PostgreSQL: a weekly
meeting and an all-day event hide exactly their slots; a feed that breaks keeps its last good
copy and its owner is told once, by DM; one that comes back is quiet until it breaks again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.calendar_feed import AddressPolicy, FeedFetcher, FeedReads
from bot.flows import feed_reads, interviewer_setup
from bot.flows.availability import Interval, free_slots
from bot.flows.interviewer_hours import availability_of, feed_busy, hours_row
from bot.unit_of_work import UnitOfWork
from storage.models import InterviewerHours, OutboxMessage
from tests.helpers.calendar import FEED, SECRET, Calendar, calendar_server, weekday_hours

BERLIN = ZoneInfo("Europe/Berlin")
ANA = "U0ANA"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday


@pytest.fixture
async def calendar() -> AsyncIterator[Calendar]:
    async with calendar_server() as served:
        yield served


@pytest.fixture
async def reads(uow: UnitOfWork) -> AsyncIterator[FeedReads]:
    uow.now = lambda: NOW
    feeds = FeedReads(uow, FeedFetcher(AddressPolicy(allow_private=True)))
    yield feeds
    await feeds.close()


def set_hours(uow: UnitOfWork, feed: str) -> None:
    entry = weekday_hours("Europe/Berlin", "09:00", "13:00", feed)
    uow.run_sync(lambda s, now: interviewer_setup.save_hours(s, ANA, entry, now))


def next_week_slots(uow: UnitOfWork) -> set[datetime]:
    start = datetime(2026, 11, 30, tzinfo=BERLIN)
    end = start + timedelta(days=4)

    def read(session: Session, now: datetime) -> set[datetime]:
        availability = availability_of(session, ANA, Interval(start, end))
        assert availability is not None
        return {s.start for s in free_slots(availability, start, end, now=now)}

    return uow.run_sync(read)


def berlin(day: int, hour: int) -> datetime:
    return datetime(2026, 11 if day > 20 else 12, day, hour, tzinfo=BERLIN).astimezone(UTC)


def dms(uow: UnitOfWork) -> list[str]:
    def read(session: Session, _now: datetime) -> list[str]:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "review.notify")
            .order_by(col(OutboxMessage.id))
        ).all()
        return [str(r.payload["text"]) for r in rows if r.payload.get("user") == ANA]

    return uow.run_sync(read)


def row(uow: UnitOfWork) -> InterviewerHours:
    found = uow.run_sync(lambda s, _now: hours_row(s, ANA))
    assert found is not None
    return found


async def test_a_weekly_meeting_and_an_all_day_event_hide_exactly_their_slots(
    uow: UnitOfWork, reads: FeedReads, calendar: Calendar
) -> None:
    set_hours(uow, calendar.url)
    before = next_week_slots(uow)
    assert len(before) == 4 * 4  # Monday to Thursday, 09:00 to 13:00, hourly

    await reads.read_now(ANA)

    stored = row(uow)
    assert stored.feed_error is None and stored.feed_read_at == NOW
    busy = feed_busy(stored)
    # The weekly meeting on each Monday up to the horizon, and the offsite day.
    mondays = [b for b in busy if b.start.astimezone(BERLIN).weekday() == 0]
    assert len(mondays) == 13  # 30 Nov … 22 Feb: every Monday in the next 92 days
    assert Interval(berlin(2, 0), berlin(3, 0)) in busy
    after = next_week_slots(uow)
    hidden = before - after
    assert hidden == {berlin(30, 10), *(berlin(2, hour) for hour in (9, 10, 11, 12))}
    assert after <= before
    assert dms(uow)[1:] == []  # the summary only: nothing went wrong


async def test_a_feed_that_breaks_keeps_its_last_good_copy_and_its_owner_is_told_once(
    uow: UnitOfWork, reads: FeedReads, calendar: Calendar
) -> None:
    set_hours(uow, calendar.url)
    await reads.read_now(ANA)
    good = feed_busy(row(uow))
    assert good and len(dms(uow)) == 1  # the saved-hours summary

    # Not due again for BusyFeedLimit.REFRESH_MINUTES.
    assert await reads.read_due() == 0 and calendar.hits == 1

    calendar.status, calendar.body = 500, "Internal Server Error"
    uow.now = lambda: NOW + timedelta(minutes=16)
    assert await reads.read_due() == 1
    told = dms(uow)[1:]
    assert told == [
        "⚠️ I couldn't read your calendar at http://127.0.0.1/…: the calendar address "
        "answered HTTP 500. Until it works again I keep using the busy times I read from it "
        "last. Check the address (your calendar app's *secret address in iCal format*) and "
        "paste it again with `/hire availability`, or remove it there."
    ]
    broken = row(uow)
    assert feed_busy(broken) == good and broken.feed_read_at == NOW
    assert broken.feed_error == "the calendar address answered HTTP 500"

    # Still broken, now as a login page instead of a calendar: not told again.
    calendar.status, calendar.body = 200, "<html>Sign in</html>"
    uow.now = lambda: NOW + timedelta(minutes=32)
    assert await reads.read_due() == 1
    assert len(dms(uow)) == 2 and feed_busy(row(uow)) == good
    assert "readable" in (row(uow).feed_error or "")

    # It works again: the copy is fresh and the error gone; breaking again is told again.
    calendar.body = FEED
    uow.now = lambda: NOW + timedelta(minutes=48)
    await reads.read_due()
    fixed = row(uow)
    assert fixed.feed_error is None and fixed.feed_error_told_at is None
    calendar.status = 404
    uow.now = lambda: NOW + timedelta(minutes=64)
    await reads.read_due()
    assert len(dms(uow)) == 3 and "HTTP 404" in dms(uow)[-1]
    assert all(SECRET not in text for text in dms(uow))


async def test_a_new_address_read_while_the_old_one_was_fetched_is_not_overwritten(
    uow: UnitOfWork, reads: FeedReads, calendar: Calendar
) -> None:
    """What comes back for an address no longer in use is dropped, not stored as the new
    one's busy times."""
    set_hours(uow, calendar.url)
    claimed = uow.run_sync(lambda s, now: feed_reads.claim(s, ANA, now))
    assert claimed is not None
    set_hours(uow, calendar.url + "?v=2")
    stored = uow.run_sync(lambda s, now: feed_reads.record(s, claimed, FEED.encode(), now))
    assert stored is None and row(uow).feed_busy == []
