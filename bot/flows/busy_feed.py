"""An interviewer's private iCal feed, read as the times they are busy (issue 10).

Google, Outlook and Apple calendars all publish a secret .ics address. Only when an event
happens matters here, never what it is: titles, attendees and descriptions are not kept.
The feed is untrusted input (anyone can serve anything at a pasted address), so its size,
its number of events and the occurrences its repeat rules expand to are all bounded
(BusyFeedLimit); a feed past a bound is refused like an unreadable one, and the caller tells
the interviewer and keeps using the last good copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import icalendar
import recurring_ical_events

from bot.flows.availability import Interval, as_utc
from bot.limits import BusyFeedLimit


class FeedError(ValueError):
    """The feed cannot be used; ``str()`` says why in words an interviewer can act on."""


class FeedTooLarge(FeedError):
    """Past one of BusyFeedLimit's bounds."""


def feed_address(pasted: str) -> str:
    """The address to fetch: Apple and Outlook hand out ``webcal://`` links, which are
    HTTPS under another name. Anything but http(s) is refused (no file://, no ftp://)."""
    if len(pasted) > BusyFeedLimit.ADDRESS_CHARS:
        raise FeedError(f"a calendar address is at most {BusyFeedLimit.ADDRESS_CHARS} characters")
    parts = urlsplit(pasted.strip())
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    try:
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        hostname = None
    if scheme not in {"http", "https"} or not hostname:
        raise FeedError("a calendar address starts with https:// or webcal://")
    return urlunsplit((scheme, *parts[1:]))


def masked(pasted: str) -> str:
    """What may be shown of a feed address: its host, never the secret path or query."""
    try:
        parts = urlsplit(feed_address(pasted))
    except FeedError:
        return "(an address hirebot cannot read)"
    return f"{parts.scheme}://{parts.hostname}/…"


# Repeating more often than hourly is no one's calendar, and is how a few bytes of RRULE
# turn into millions of occurrences.
TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})


def parse_feed(ics: bytes | str) -> icalendar.Calendar:
    """The feed's calendar, or FeedError: too large, not iCalendar, or hostile."""
    raw = ics.encode() if isinstance(ics, str) else ics
    if len(raw) > BusyFeedLimit.FEED_BYTES:
        raise FeedTooLarge(
            f"the calendar feed is over {BusyFeedLimit.FEED_BYTES // (1024 * 1024)} MB"
        )
    try:
        calendar = icalendar.Calendar.from_ical(raw)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as error:
        # icalendar raises ValueError subclasses for what it recognises as broken, and
        # plain lookup errors on some truncated lines: all mean "not a calendar we can read".
        raise FeedError("the calendar address did not return a readable iCal feed") from error
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise FeedError("the calendar address did not return an iCal calendar (VCALENDAR)")
    events = calendar.walk("VEVENT")
    if len(events) > BusyFeedLimit.EVENTS:
        raise FeedTooLarge(f"the calendar feed has over {BusyFeedLimit.EVENTS} events")
    for event in events:
        if too_frequent(event):
            raise FeedTooLarge("the calendar feed repeats an event more often than hourly")
    return calendar


def too_frequent(event: Any) -> bool:
    rules = event.get("RRULE")
    try:
        return any(
            set(rule.get("FREQ", [])) & TOO_FREQUENT
            for rule in (rules if isinstance(rules, list) else [rules] if rules else [])
        )
    except ValueError as error:
        # icalendar keeps a property it cannot parse as vBroken, which raises on use.
        raise FeedError("the calendar feed has a repeat rule hirebot cannot read") from error


def busy_intervals(
    ics: bytes | str, start: datetime, end: datetime, *, zone: tzinfo
) -> list[Interval]:
    """When the feed's owner is busy between ``start`` and ``end``, merged and sorted.

    ``zone`` is the interviewer's: an all-day event keeps them busy for that whole local day,
    and a floating time (no zone in the feed) is read as their wall clock. Events marked
    free (TRANSP:TRANSPARENT, or Outlook's X-MICROSOFT-CDO-BUSYSTATUS:FREE) and cancelled
    ones (STATUS:CANCELLED) do not count."""
    window = Interval(start, end)
    calendar = parse_feed(ics)
    found: list[Interval] = []
    try:
        for occurrence in occurrences(calendar, window):
            if not counts_as_busy(occurrence):
                continue
            interval = occurrence_interval(occurrence, zone)
            if interval is not None and interval.overlaps(window):
                found.append(interval)
    except FeedError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
        # A rule or date the expander cannot follow (a bad RRULE, DTEND before DTSTART,
        # an event without DTSTART): the feed as a whole is unreadable, said once.
        raise FeedError("the calendar feed has an event hirebot cannot read") from error
    return merged(found)


def occurrences(calendar: icalendar.Calendar, window: Interval) -> Iterator[Any]:
    """Every event occurrence that overlaps the window, at most BusyFeedLimit.OCCURRENCES.

    ``after`` expands lazily (a day or less at a time, in start order), so a hostile rule
    is cut off at the bound instead of being expanded whole."""
    query = recurring_ical_events.of(calendar)
    expanded = itertools.takewhile(
        lambda event: not starts_at_or_after(event, window.end),
        query.after(window.start),
    )
    for count, occurrence in enumerate(expanded, start=1):
        if count > BusyFeedLimit.OCCURRENCES:
            raise FeedTooLarge(
                f"the calendar feed has over {BusyFeedLimit.OCCURRENCES} events in the "
                "weeks hirebot looks at"
            )
        yield occurrence


def starts_at_or_after(event: Any, moment: datetime) -> bool:
    value = event.get("DTSTART").dt
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # Floating: compared in UTC here only to stop expanding; at most a day early or
            # late, and occurrence_interval reads it properly in the interviewer's zone.
            return value >= moment.replace(tzinfo=None) + timedelta(days=1)
        return as_utc(value) >= moment
    # An all-day date: past the window once the whole day (any zone) is.
    return bool(value >= moment.date() + timedelta(days=2))


def counts_as_busy(event: Any) -> bool:
    transparency = str(event.get("TRANSP", "OPAQUE")).upper()
    status = str(event.get("STATUS", "CONFIRMED")).upper()
    # Outlook says "show as free" with its own property and may leave TRANSP out. Only FREE
    # frees the time: TENTATIVE, OOF (away) and WORKINGELSEWHERE keep it busy, as a person
    # who marked it so would expect.
    outlook = str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "BUSY")).upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED" and outlook != "FREE"


def occurrence_interval(event: Any, zone: tzinfo) -> Interval | None:
    """The instants one occurrence covers; None for a zero-length event (a reminder
    pinned to a time keeps no one busy)."""
    start = to_instant(event.get("DTSTART").dt, zone)
    end_value = event.get("DTEND")
    if end_value is not None:
        end = to_instant(end_value.dt, zone)
    elif isinstance(event.get("DTSTART").dt, datetime):
        end = start  # RFC 5545 §3.6.1: a timed event without DTEND or DURATION is a moment
    else:
        end = to_instant(event.get("DTSTART").dt + timedelta(days=1), zone)
    return Interval(start, end) if end > start else None


def to_instant(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value if value.tzinfo is not None else value.replace(tzinfo=zone))
    # All-day: from local midnight of that date in the interviewer's zone.
    return as_utc(datetime.combine(value, time(0), tzinfo=zone))


def merged(intervals: list[Interval]) -> list[Interval]:
    """Overlapping or touching intervals as one, sorted: fewer comparisons per slot."""
    result: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if result and interval.start <= result[-1].end:
            if interval.end > result[-1].end:
                result[-1] = Interval(result[-1].start, interval.end)
        else:
            result.append(interval)
    return result


@dataclass(frozen=True)
class FeedCopy:
    """What hirebot knows of one interviewer's feed: the busy times of its last good read,
    and the problem with the latest read if it failed. A feed that breaks (a revoked link,
    a server down) keeps its last good busy times: offering a slot over a meeting hirebot
    knew about is worse than offering one from a slightly old copy."""

    busy: tuple[Interval, ...] = ()
    read_at: datetime | None = None  # when the busy times were read; None: never yet
    problem: str | None = None  # why the latest read failed; None after a good one
    # True only on the read that turned a good (or never read) feed bad: the interviewer is
    # told once, not on every scheduled read while it stays broken.
    tell_interviewer: bool = False


def refreshed(
    previous: FeedCopy,
    ics: bytes | str | FeedError,
    start: datetime,
    end: datetime,
    *,
    zone: tzinfo,
    now: datetime,
) -> FeedCopy:
    """The copy after one scheduled read: ``ics`` is the fetched text, or the FeedError the
    fetch raised (unreachable, too large). Reads the whole window at once, so the copy
    covers every slot a search within it can offer."""
    try:
        if isinstance(ics, FeedError):
            raise ics
        busy = busy_intervals(ics, start, end, zone=zone)
    except FeedError as error:
        return replace(previous, problem=str(error), tell_interviewer=previous.problem is None)
    return FeedCopy(busy=tuple(busy), read_at=as_utc(now, "now"))
