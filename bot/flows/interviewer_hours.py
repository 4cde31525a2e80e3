"""An interviewer's stored hours, as the slot rules read them (issue 10).

``InterviewerHours`` rows keep what an interviewer set (bot.flows.availability.WeeklyHours,
flattened to JSON) and the last good copy of their calendar feed's busy times. This module
turns a row back into the rules' types; it is the one place that knows the row's layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from bot.flows import booking
from bot.flows.availability import Availability, DailyHours, Interval, WeeklyHours, as_utc
from storage.models import InterviewerHours

_DAY = timedelta(days=1)


def weekly_hours(row: InterviewerHours) -> WeeklyHours:
    """The row as the rules' WeeklyHours (AvailabilityError if it no longer holds, e.g. a
    time zone the system's tz database dropped)."""
    return WeeklyHours(
        time_zone=row.time_zone,
        days=tuple(
            DailyHours(int(weekday), time.fromisoformat(start), time.fromisoformat(end))
            for weekday, start, end in row.days
        ),
        slot_minutes=row.slot_minutes,
        buffer_minutes=row.buffer_minutes,
        max_per_day=row.max_per_day,
        days_off=frozenset(date.fromisoformat(day) for day in row.days_off),
    )


def store_hours(row: InterviewerHours, hours: WeeklyHours, now: datetime) -> None:
    """Write ``hours`` into ``row`` (the feed columns are left as they are)."""
    row.time_zone = hours.time_zone
    row.days = [
        [d.weekday, d.start.isoformat("minutes"), d.end.isoformat("minutes")]
        for d in sorted(hours.days, key=lambda d: (d.weekday, d.start))
    ]
    row.slot_minutes = hours.slot_minutes
    row.buffer_minutes = hours.buffer_minutes
    row.max_per_day = hours.max_per_day
    row.days_off = sorted(day.isoformat() for day in hours.days_off)
    row.updated_at = now


def feed_busy(row: InterviewerHours) -> tuple[Interval, ...]:
    return tuple(
        Interval(as_utc(datetime.fromisoformat(start)), as_utc(datetime.fromisoformat(end)))
        for start, end in row.feed_busy
    )


def store_feed_busy(row: InterviewerHours, busy: Sequence[Interval]) -> None:
    row.feed_busy = [[b.start.isoformat(), b.end.isoformat()] for b in busy]


def hours_row(session: Session, interviewer: str) -> InterviewerHours | None:
    return session.get(InterviewerHours, interviewer)


def availability_of(session: Session, interviewer: str, window: Interval) -> Availability | None:
    """One interviewer's hours with everything that fills ``window`` (their feed's busy
    times, their hirebot bookings); None when they have set no hours."""
    row = hours_row(session, interviewer)
    if row is None:
        return None
    # A booking on the day before or after can still count towards that local day's
    # maximum or its buffer: look a day around the window.
    wide = window.widened(_DAY)
    return Availability(
        hours=weekly_hours(row),
        busy=tuple(b for b in feed_busy(row) if b.overlaps(wide)),
        booked=tuple(booking.busy_with_bookings(session, interviewer, wide)),
    )
