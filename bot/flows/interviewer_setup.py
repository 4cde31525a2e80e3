"""An interviewer sets their interview hours, invitation email and calendar feed (issue 10).

The form (``/hire availability``, or the App Home button) shows what is stored, or for a
first time the zone and email Slack knows. What comes back is checked by the slot rules
(bot.flows.availability.WeeklyHours); each problem is returned against the field it belongs
to (``HoursRefused.errors``), so the form shows it there and nothing is saved. Field names
are the form's: time_zone, days, hours, slot_minutes, buffer_minutes, max_per_day, days_off,
email, feed.

The calendar address is a secret: it is shown back only masked (its host), and an empty
field keeps the stored one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session

from bot.errors import HirebotError
from bot.flows import escaping, outgoing
from bot.flows.availability import AvailabilityError, DailyHours, WeeklyHours, zone_named
from bot.flows.busy_feed import FeedError, feed_address, masked
from bot.flows.interviewer_hours import hours_row, store_hours, weekly_hours
from bot.flows.moments import known_zone
from bot.limits import BusyFeedLimit, SchedulingLimit
from storage.models import InterviewerHours, Opening

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_EMAIL = re.compile(r"^[^@\s<>\"'|]+@[^@\s<>\"'|]+\.[^@\s<>\"'|]+$")
_EMAIL_CHARS = 254
_DATE_SEPARATORS = re.compile(r"[\s,;]+")

# A first form: a working week of office hours, half-hour calls.
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
DEFAULT_START, DEFAULT_END = time(9), time(17)
DEFAULT_SLOT_MINUTES = 30
DEFAULT_BUFFER_MINUTES = 10
DEFAULT_MAX_PER_DAY = 4


class HoursRefused(HirebotError):
    """The form's values cannot be used; ``errors`` maps a field to what to fix there."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class HoursForm:
    """What the form shows."""

    time_zone: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    slot_minutes: int
    buffer_minutes: int
    max_per_day: int
    days_off: tuple[date, ...]
    email: str | None
    feed: str | None  # masked: the host only
    saved_before: bool


@dataclass(frozen=True)
class HoursEntry:
    """What the interviewer submitted, as typed."""

    time_zone: str
    weekdays: tuple[int, ...]
    start: str  # "HH:MM", a Slack timepicker's value
    end: str
    slot_minutes: int
    buffer_minutes: int
    max_per_day: int
    days_off: str  # dates, YYYY-MM-DD, separated by commas, spaces or lines
    email: str
    feed: str  # a new private address; empty keeps the stored one
    stop_feed: bool = False


@dataclass(frozen=True)
class Saved:
    summary: str
    read_feed: bool  # a new calendar address: read it at once, so a wrong one is told now


def form_for(
    session: Session,
    interviewer: str,
    *,
    now: datetime,
    slack_zone: str | None,
    slack_email: str | None,
) -> HoursForm:
    """The stored hours, or a first form in the zone and with the email Slack knows."""
    row = hours_row(session, interviewer)
    if row is None:
        return HoursForm(
            time_zone=slack_zone if slack_zone and known_zone(slack_zone) else "UTC",
            weekdays=DEFAULT_WEEKDAYS,
            start=DEFAULT_START,
            end=DEFAULT_END,
            slot_minutes=DEFAULT_SLOT_MINUTES,
            buffer_minutes=DEFAULT_BUFFER_MINUTES,
            max_per_day=DEFAULT_MAX_PER_DAY,
            days_off=(),
            email=slack_email,
            feed=None,
            saved_before=False,
        )
    hours = weekly_hours(row)
    first = min(hours.days, key=lambda d: (d.weekday, d.start))
    today = now.astimezone(hours.zone).date()
    return HoursForm(
        time_zone=hours.time_zone,
        weekdays=tuple(sorted({d.weekday for d in hours.days})),
        start=first.start,
        end=first.end,
        slot_minutes=hours.slot_minutes,
        buffer_minutes=hours.buffer_minutes,
        max_per_day=hours.max_per_day,
        days_off=tuple(sorted(d for d in hours.days_off if d >= today)),
        email=row.email or slack_email,
        feed=masked(row.feed_url) if row.feed_url else None,
        saved_before=True,
    )


def save_hours(session: Session, interviewer: str, entry: HoursEntry, now: datetime) -> Saved:
    """Store the hours, or HoursRefused with every field to fix. The summary is sent to the
    interviewer as a DM, through the outbox, in the same transaction."""
    errors: dict[str, str] = {}
    hours = _checked_hours(entry, now, errors)
    email = entry.email.strip()
    if email and (len(email) > _EMAIL_CHARS or not _EMAIL.match(email)):
        errors["email"] = "That doesn't look like an email address (name@example.com)."
    feed = entry.feed.strip()
    if feed and not entry.stop_feed:
        try:
            feed_address(feed)
        except FeedError as error:
            errors["feed"] = _sentence(str(error))
    if errors or hours is None:
        raise HoursRefused(errors or {"hours": "Please check your hours."})
    row = hours_row(session, interviewer)
    if row is None:
        row = InterviewerHours(interviewer=interviewer, time_zone=hours.time_zone, updated_at=now)
        session.add(row)
    store_hours(row, hours, now)
    row.email = email or None
    read_feed = False
    if entry.stop_feed:
        _forget_feed(row)
    elif feed and feed != row.feed_url:
        # A new address: its problems are its own. The busy times read from the old one stay
        # until the new one reads well (often the same calendar with a reset secret link).
        row.feed_url = feed
        row.feed_error = row.feed_error_told_at = row.feed_tried_at = None
        read_feed = True
    session.flush()
    text = summary(row)
    outgoing.to_team_member(session, interviewer, text, now)
    return Saved(summary=text, read_feed=read_feed)


def _checked_hours(entry: HoursEntry, now: datetime, errors: dict[str, str]) -> WeeklyHours | None:
    """The entry as WeeklyHours; each problem added to ``errors`` against its field."""
    try:
        zone = zone_named(entry.time_zone.strip())
    except AvailabilityError:
        errors["time_zone"] = "Pick a time zone from the list (e.g. Europe/Berlin)."
        zone = None
    start, end = _clock(entry.start), _clock(entry.end)
    if start is None or end is None:
        errors["hours"] = "Pick both times (HH:MM)."
    days_off = _dates(entry.days_off, errors)
    if zone is not None and days_off:
        today = now.astimezone(zone).date()
        days_off = [d for d in days_off if d >= today]  # a day gone by changes nothing
    if errors or start is None or end is None:
        return None
    try:
        return WeeklyHours(
            time_zone=entry.time_zone.strip(),
            days=tuple(DailyHours(day, start, end) for day in sorted(set(entry.weekdays))),
            slot_minutes=entry.slot_minutes,
            buffer_minutes=entry.buffer_minutes,
            max_per_day=entry.max_per_day,
            days_off=frozenset(days_off),
        )
    except AvailabilityError as error:
        errors[error.field] = _sentence(str(error))
        return None


def _clock(value: str) -> time | None:
    value = value.strip()
    return time.fromisoformat(value) if _CLOCK.match(value) else None


def _dates(text: str, errors: dict[str, str]) -> list[date]:
    found: list[date] = []
    for word in (w for w in _DATE_SEPARATORS.split(text.strip()) if w):
        try:
            if len(word) != len("YYYY-MM-DD"):
                raise ValueError(word)
            found.append(date.fromisoformat(word))
        except ValueError:
            errors["days_off"] = (
                f"“{word[:20]}” is not a date: write dates as YYYY-MM-DD, separated by commas."
            )
            return []
    if len(set(found)) > SchedulingLimit.DAYS_OFF_MAX:
        errors["days_off"] = f"At most {SchedulingLimit.DAYS_OFF_MAX} days off at a time."
        return []
    return sorted(set(found))


def _forget_feed(row: InterviewerHours) -> None:
    row.feed_url = None
    row.feed_busy = []
    row.feed_read_at = row.feed_tried_at = row.feed_error = row.feed_error_told_at = None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def summary(row: InterviewerHours) -> str:
    """What is stored, in words (mrkdwn), for the interviewer's DM."""
    hours = weekly_hours(row)
    by_time: dict[tuple[time, time], list[int]] = {}
    for stretch in hours.days:
        by_time.setdefault((stretch.start, stretch.end), []).append(stretch.weekday)
    lines = [
        f"• {', '.join(WEEKDAYS[d] for d in sorted(days))} "
        f"{start:%H:%M}–{end:%H:%M} ({hours.time_zone})"
        for (start, end), days in sorted(by_time.items(), key=lambda item: min(item[1]))
    ]
    lines.append(
        f"• {hours.slot_minutes}-minute calls, {hours.buffer_minutes} minutes between calls, "
        f"at most {hours.max_per_day} a day"
    )
    days_off = ", ".join(d.isoformat() for d in sorted(hours.days_off))
    lines.append(f"• Days off: {days_off or 'none'}")
    lines.append(
        f"• Calendar invitations go to {escaping.mrkdwn(row.email)}"
        if row.email
        else "• No email: you won't get calendar invitations for your calls"
    )
    lines.append(
        f"• Your calendar at {masked(row.feed_url)} is read every "
        f"{BusyFeedLimit.REFRESH_MINUTES} minutes: times busy there are never offered"
        if row.feed_url
        else "• No calendar connected: candidates may be offered times you are busy elsewhere"
    )
    return "Your interview hours are saved:\n" + "\n".join(lines)


def without_hours(session: Session, interviewers: Sequence[str]) -> list[str]:
    """The interviewers among ``interviewers`` who have set no hours: no slot can be offered
    with them until they do."""
    return [user for user in interviewers if hours_row(session, user) is None]


def missing_hours(session: Session, opening: Opening) -> list[str]:
    """An opening's interviewers who have set no hours yet, in the opening's order."""
    return without_hours(session, opening.interviewers)


def ask_to_set_hours(missing: Sequence[str]) -> str:
    """What to tell a recruiter when interviewers have no hours (mrkdwn, mentions)."""
    people = ", ".join(f"<@{user}>" for user in missing)
    return f"Ask {people} to set their interview hours with `/hire availability`."
