"""An interviewer's private iCal feed, read as the times they are busy (issue 10).

Google, Outlook and Apple calendars all publish a secret .ics address. Only when an event
happens matters here, never what it is: titles, attendees and descriptions are not kept.
The feed is untrusted input (anyone can serve anything at a pasted address), so its size,
its number of events and the occurrences its repeat rules expand to are all bounded
(BusyFeedLimit); a feed past a bound is refused like an unreadable one, and the caller tells
the interviewer and keeps using the last good copy.
"""

from __future__ import annotations

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
    raw = ics.encode() if isinstance(ics, str) else ics
    if len(raw) <= BusyFeedLimit.FEED_BYTES:  # a larger one is refused by parse_feed
        # Two days' margin: a floating or all-day date is read in the interviewer's zone.
        margin = timedelta(days=2)
        raw = outside_dropped(raw, window.start.date() - margin, window.end.date() + margin)
    calendar = parse_feed(raw)
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


# Properties that make an event repeat or change a repeat: such an event may matter
# whenever it started, so it is kept (an RRULE whose UNTIL is past, alone, is not).
_REPEATING = frozenset({b"RDATE", b"EXRULE", b"RECURRENCE-ID"})


def outside_dropped(raw: bytes, after: date, before: date) -> bytes:
    """The feed without the events that cannot touch [``after``, ``before``]: one-off events
    that ended before it or start after it, and repeats that ended (UNTIL) before it.

    Google's and Outlook's private feeds carry every event ever, years of them; icalendar
    takes about a millisecond to parse each (`hirebot bench calendar-feed`: 15,000 events
    took 17 s), and only the coming weeks matter. A line scan drops the rest first. It is
    conservative: an event whose dates it cannot read is kept for the parser to judge, and
    an unterminated event is left as it is (the parser refuses it). Every event kept makes
    at least one occurrence in the window (or repeats), so more than
    BusyFeedLimit.OCCURRENCES of them is refused here, before the slow parse. Linear in the
    feed's size whatever it holds."""
    kept: list[bytes] = []
    event: list[bytes] | None = None
    events = 0
    for line in raw.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n").upper()
        if event is None:
            if bare == b"BEGIN:VEVENT":
                event = [line]
            else:
                kept.append(line)
            continue
        event.append(line)
        if bare == b"END:VEVENT":
            if _may_touch(event, after, before):
                kept.extend(event)
                events += 1
                if events > BusyFeedLimit.OCCURRENCES:
                    raise FeedTooLarge(too_many())
            event = None
    if event is not None:
        kept.extend(event)
    return b"".join(kept)


def _may_touch(event: list[bytes], after: date, before: date) -> bool:
    dates: dict[bytes, date] = {}
    has_duration = False
    repeats = False
    # Unfold (RFC 5545 §3.1): a line starting with a space or tab continues the previous one.
    logical: list[bytes] = []
    for line in event:
        if line[:1] in (b" ", b"\t") and logical:
            logical[-1] = logical[-1] + line[1:].rstrip(b"\r\n")
        else:
            logical.append(line.rstrip(b"\r\n"))
    for line in logical:
        head, colon, value = line.partition(b":")
        name = head.split(b";", 1)[0].strip().upper()
        if name == b"RRULE":
            until = _until(value)
            if until is None or until >= after:
                return True
            repeats = True  # ended before the window: only an RDATE could still matter
        elif name in _REPEATING:
            return True
        elif name == b"DURATION":
            has_duration = True
        elif name in (b"DTSTART", b"DTEND") and colon:
            try:
                dates[name] = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
            except ValueError:
                return True
    if b"DTSTART" not in dates:
        return True
    first = dates[b"DTSTART"]
    # A DURATION can run for days; a week's margin keeps any ordinary one.
    last = dates.get(b"DTEND", first + timedelta(days=8 if has_duration else 1))
    if repeats:
        return False
    return last >= after and first <= before


def _until(rule: bytes) -> date | None:
    """The UNTIL date of an RRULE value; None when it has none or it cannot be read."""
    for part in rule.upper().split(b";"):
        key, _, value = part.partition(b"=")
        if key.strip() == b"UNTIL":
            try:
                return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
            except ValueError:
                return None
    return None


def occurrences(calendar: icalendar.Calendar, window: Interval) -> list[Any]:
    """Every event occurrence that overlaps the window, at most BusyFeedLimit.OCCURRENCES.

    The repeat rules are bounded before anything is expanded (``expansion_bound``), so a
    few bytes of RRULE cannot make millions of occurrences; the window is then expanded in
    one ``between`` call. (``after``, which expands lazily, took 40 to 70 times longer: 22 s
    of CPU for 2,000 hourly occurrences, `hirebot bench calendar-feed`.)"""
    if expansion_bound(calendar, window) > BusyFeedLimit.OCCURRENCES:
        raise FeedTooLarge(too_many())
    found = list(recurring_ical_events.of(calendar).between(window.start, window.end))
    if len(found) > BusyFeedLimit.OCCURRENCES:
        raise FeedTooLarge(too_many())
    return found


def too_many() -> str:
    return (
        f"the calendar feed has over {BusyFeedLimit.OCCURRENCES} events in the weeks "
        "hirebot looks at"
    )


# Occurrences a rule's frequency makes per day, before its BY-lists (RFC 5545 §3.3.10).
_PER_DAY = {"HOURLY": 24.0, "DAILY": 1.0, "WEEKLY": 1 / 7, "MONTHLY": 1 / 28, "YEARLY": 1 / 365}


def expansion_bound(calendar: icalendar.Calendar, window: Interval) -> int:
    """An upper bound on the occurrences the feed's repeat rules (and RDATE lists) can make
    in ``window``, from the rules alone: their frequency, interval, COUNT and the BY-lists
    that multiply (BYSECOND, BYMINUTE, BYHOUR, BYDAY, BYMONTHDAY…) or filter (BYHOUR and
    BYDAY under HOURLY, BYDAY under DAILY). One-off events are not counted here: there are at
    most BusyFeedLimit.EVENTS of them, and each is cheap."""
    days = (window.end - window.start).total_seconds() / 86400 + 2  # a day around it
    total = 0.0
    for event in calendar.walk("VEVENT"):
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            total += _rule_bound(rule, days)
        dates = event.get("RDATE")
        for listed in dates if isinstance(dates, list) else [dates] if dates else []:
            total += len(getattr(listed, "dts", [listed]))
        if total > BusyFeedLimit.OCCURRENCES:
            break  # enough to refuse
    return int(total)


def _rule_bound(rule: Any, days: float) -> float:
    try:
        freq = str(rule.get("FREQ", ["DAILY"])[0]).upper()
        interval = max(1, int(rule.get("INTERVAL", [1])[0]))
        count = int(rule["COUNT"][0]) if "COUNT" in rule else None
    except (ValueError, TypeError, IndexError) as error:
        raise FeedError("the calendar feed has a repeat rule hirebot cannot read") from error

    def size(part: str) -> int:
        return len(rule.get(part, [])) or 1

    per_day = _PER_DAY.get(freq, 24.0) / interval
    weekdays = len(rule.get("BYDAY", []))
    if freq == "HOURLY":
        if "BYHOUR" in rule:  # a filter: at most those hours a day
            per_day = min(per_day, float(size("BYHOUR")))
        if weekdays:
            per_day *= weekdays / 7
    else:
        per_day *= size("BYHOUR")
        if freq == "DAILY" and weekdays:
            per_day *= weekdays / 7
        elif freq == "WEEKLY":
            per_day *= weekdays or 1
        elif freq in ("MONTHLY", "YEARLY"):
            # Each weekday up to 5 times a month, each listed day of the month once; a
            # yearly rule with date lists is counted as if it could fall on every day.
            per_day *= max(1, 5 * weekdays + len(rule.get("BYMONTHDAY", [])))
            if freq == "YEARLY" and any(
                part in rule for part in ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
            ):
                per_day = max(per_day, 1.0 / interval) * 31
    per_day *= size("BYMINUTE") * size("BYSECOND")
    bound = per_day * days + 1
    return min(bound, count) if count is not None else bound


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
