"""A private iCal feed read as busy time (bot/flows/busy_feed.py): recurring events with
EXDATE, all-day events, free and cancelled events, unreadable and hostile feeds. The .ics
fixtures are written here by hand."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.flows.availability import Availability, DailyHours, Interval, WeeklyHours, free_slots
from bot.flows.busy_feed import (
    FeedError,
    FeedTooLarge,
    busy_intervals,
    occurrences,
    outside_dropped,
    parse_feed,
)
from bot.limits import BusyFeedLimit

NEW_YORK = ZoneInfo("America/New_York")
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
EARLY = datetime(2026, 10, 1, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def feed(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hirebot tests//EN\r\n"
            f"{body}END:VCALENDAR\r\n"
        )
        .replace("\n", "\r\n")
        .replace("\r\r\n", "\r\n")
    )


def lines(*items: str) -> str:
    return "\n".join(items)


def busy(ics: str) -> list[Interval]:
    return busy_intervals(ics, START, END, zone=NEW_YORK)


MONDAY_MORNINGS = WeeklyHours(
    time_zone="America/New_York",
    days=(DailyHours(0, time(9), time(12)),),
    slot_minutes=60,
)


def test_a_weekly_event_with_an_exdate_hides_exactly_its_other_weeks() -> None:
    # Mondays 10:00-11:00 New York, four weeks from 2026-11-02, the 2026-11-16 one deleted.
    standup = lines(
        "UID:standup@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART;TZID=America/New_York:20261102T100000",
        "DTEND;TZID=America/New_York:20261102T110000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=America/New_York:20261116T100000",
        "SUMMARY:Standup",
    )
    intervals = busy(feed(standup))
    assert intervals == [Interval(utc(2026, 11, d, 15), utc(2026, 11, d, 16)) for d in (2, 9, 23)]
    slots = free_slots(Availability(MONDAY_MORNINGS, busy=tuple(intervals)), START, END, now=EARLY)
    hidden = {utc(2026, 11, d, 15) for d in (2, 9, 23)}
    all_mondays = {utc(2026, 11, d, h) for d in (2, 9, 16, 23, 30) for h in (14, 15, 16)}
    assert {s.start for s in slots} == all_mondays - hidden
    # The deleted week keeps its 10:00 slot.
    assert utc(2026, 11, 16, 15) in {s.start for s in slots}


def test_an_all_day_event_keeps_the_interviewer_busy_the_whole_local_day() -> None:
    offsite = lines(
        "UID:offsite@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART;VALUE=DATE:20261109",
        "DTEND;VALUE=DATE:20261110",
        "SUMMARY:Offsite",
    )
    intervals = busy(feed(offsite))
    # Midnight to midnight in New York (EST, UTC-5).
    assert intervals == [Interval(utc(2026, 11, 9, 5), utc(2026, 11, 10, 5))]
    slots = free_slots(Availability(MONDAY_MORNINGS, busy=tuple(intervals)), START, END, now=EARLY)
    assert not [s for s in slots if s.start.astimezone(NEW_YORK).day == 9]
    assert len(slots) == 4 * 3  # the other four Mondays keep all three slots


def test_free_and_cancelled_events_hide_nothing_and_outlooks_tentative_does() -> None:
    free = lines(
        "UID:free@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART:20261102T150000Z",
        "DTEND:20261102T160000Z",
        "TRANSP:TRANSPARENT",
    )
    cancelled = lines(
        "UID:cancelled@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART:20261102T140000Z",
        "DTEND:20261102T150000Z",
        "STATUS:CANCELLED",
    )
    opaque = lines(
        "UID:opaque@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART:20261102T160000Z",
        "DTEND:20261102T170000Z",
        "TRANSP:OPAQUE",
    )
    outlook_free = lines(
        "UID:outlook-free@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART:20261102T170000Z",
        "DTEND:20261102T180000Z",
        "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
    )
    outlook_tentative = lines(
        "UID:outlook-tentative@test",
        "DTSTAMP:20261001T000000Z",
        "DTSTART:20261102T190000Z",
        "DTEND:20261102T200000Z",
        "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
    )
    assert busy(feed(free, cancelled, opaque, outlook_free, outlook_tentative)) == [
        Interval(utc(2026, 11, 2, 16), utc(2026, 11, 2, 17)),
        Interval(utc(2026, 11, 2, 19), utc(2026, 11, 2, 20)),
    ]


def test_a_floating_time_is_read_on_the_interviewers_wall_clock_and_outside_events_dropped() -> (
    None
):
    floating = lines(
        "UID:f@test", "DTSTAMP:20261001T000000Z", "DTSTART:20261103T090000", "DURATION:PT30M"
    )
    before = lines(
        "UID:b@test", "DTSTAMP:20261001T000000Z", "DTSTART:20261020T090000Z", "DURATION:PT1H"
    )
    after = lines(
        "UID:a@test", "DTSTAMP:20261001T000000Z", "DTSTART:20261202T090000Z", "DURATION:PT1H"
    )
    assert busy(feed(floating, before, after)) == [
        Interval(utc(2026, 11, 3, 14), utc(2026, 11, 3, 14, 30))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "this is not a calendar",
        "<html><body>Sign in to Google</body></html>",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20261102T150000Z\r\n",
        feed(lines("UID:x@test", "DTSTART:2026-11-02 nonsense", "DURATION:PT1H")),
        feed(lines("UID:r@test", "DTSTART:20261102T150000Z", "RRULE:FREQ=SOMETIMES")),
        "",
    ],
    ids=["prose", "html-login-page", "truncated", "bad-date", "bad-rrule", "empty"],
)
def test_an_unreadable_feed_raises_a_feed_error(text: str) -> None:
    with pytest.raises(FeedError, match="calendar"):
        busy(text)


def test_a_feed_over_the_size_bound_is_refused_before_parsing() -> None:
    padding = "X-PAD:" + "x" * 70 + "\r\n"
    event = lines("UID:big@test", "DTSTART:20261102T150000Z", "DURATION:PT1H")
    text = feed(event).replace(
        "END:VCALENDAR", padding * (BusyFeedLimit.FEED_BYTES // len(padding) + 1) + "END:VCALENDAR"
    )
    assert len(text.encode()) > BusyFeedLimit.FEED_BYTES
    with pytest.raises(FeedTooLarge, match="MB"):
        busy(text)


def test_a_rule_expanding_past_the_occurrence_bound_is_cut_off_not_expanded() -> None:
    # Every minute of every hour, forever: a few bytes meaning ~43,000 events in the window.
    every_minute = lines(
        "UID:storm@test",
        "DTSTART:20261101T000000Z",
        "DURATION:PT1M",
        "RRULE:FREQ=HOURLY;BYMINUTE=" + ",".join(str(m) for m in range(60)),
    )
    tracemalloc.start()
    try:
        with pytest.raises(FeedTooLarge, match=str(int(BusyFeedLimit.OCCURRENCES))):
            busy(feed(every_minute))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Cut off lazily: about 1.4 MB at the peak here; expanded whole it would be hundreds.
    assert peak < 20 * 1024 * 1024
    secondly = lines("UID:s@test", "DTSTART:20261101T000000Z", "RRULE:FREQ=SECONDLY")
    with pytest.raises(FeedTooLarge, match="hourly"):
        busy(feed(secondly))


def test_a_dense_but_legitimate_feed_stays_within_the_bounds() -> None:
    # Every weekday hour 09-17 for a month: a few hundred occurrences, merged per day.
    workday = lines(
        "UID:work@test",
        "DTSTART;TZID=America/New_York:20261102T090000",
        "DURATION:PT1H",
        "RRULE:FREQ=HOURLY;BYHOUR=9,10,11,12,13,14,15,16;BYDAY=MO,TU,WE,TH,FR",
    )
    intervals = busy(feed(workday))
    assert len(intervals) == 21  # weekdays from 2 Nov to 30 Nov, each 09:00-17:00 merged
    assert all(i.end - i.start == timedelta(hours=8) for i in intervals)


def test_events_that_cannot_touch_the_window_are_dropped_before_parsing() -> None:
    def event(uid: str, *more: str) -> str:
        return lines(f"UID:{uid}", *more)

    ics = feed(
        event("past", "DTSTART:20240105T100000Z", "DTEND:20240105T110000Z"),
        event("later", "DTSTART:20270601T100000Z", "DTEND:20270601T110000Z"),
        event("inside", "DTSTART:20261110T100000Z", "DTEND:20261110T110000Z"),
        event(
            "ended-series",
            "DTSTART:20240101T100000Z",
            "DURATION:PT1H",
            "RRULE:FREQ=WEEKLY;UNTIL=20240601T000000Z",
        ),
        event("live-series", "DTSTART:20240101T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"),
        event(
            "ended-but-rdate",
            "DTSTART:20240101T100000Z",
            "DURATION:PT1H",
            "RRULE:FREQ=WEEKLY;UNTIL=20240601T000000Z",
            "RDATE:20261111T100000Z",
        ),
        # A long all-day event that began before the window and runs into it.
        event("long", "DTSTART;VALUE=DATE:20261025", "DTEND;VALUE=DATE:20261105"),
        event("folded", "DTSTART:2026", " 1112T100000Z", "DURATION:PT1H"),
        event("unreadable", "DTSTART:garbage"),
    )
    kept = outside_dropped(ics.encode(), date(2026, 10, 30), date(2026, 12, 3)).decode()
    uids = [line.removeprefix("UID:") for line in kept.splitlines() if line.startswith("UID:")]
    assert uids == [
        "inside",
        "live-series",
        "ended-but-rdate",
        "long",
        "folded",
        "unreadable",
    ]
    # What is kept reads the same as the whole feed over the window.
    readable = feed(
        *(
            e
            for e in (
                event("past", "DTSTART:20240105T100000Z", "DTEND:20240105T110000Z"),
                event("inside", "DTSTART:20261110T100000Z", "DTEND:20261110T110000Z"),
                event(
                    "live-series", "DTSTART:20240101T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"
                ),
                event("later", "DTSTART:20270601T100000Z", "DTEND:20270601T110000Z"),
            )
        )
    )
    whole = occurrences(parse_feed(readable.encode()), Interval(START, END))
    assert len(busy(readable)) == len(whole) == 6  # five Mondays and the 10th
    # An event left unterminated stays for the parser, which refuses the feed.
    broken = ics.replace("END:VEVENT\r\nEND:VCALENDAR", "END:VCALENDAR")
    assert outside_dropped(broken.encode(), date(2026, 10, 30), date(2026, 12, 3)).endswith(
        b"DTSTART:garbage\r\nEND:VCALENDAR\r\n"
    )


def test_more_one_off_events_in_the_window_than_occurrences_are_refused_before_parsing() -> None:
    many = feed(
        *(
            lines(f"UID:{i}", f"DTSTART:202611{1 + i % 28:02}T{i % 24:02}0000Z", "DURATION:PT1M")
            for i in range(BusyFeedLimit.OCCURRENCES + 1)
        )
    )
    with pytest.raises(FeedTooLarge, match=str(int(BusyFeedLimit.OCCURRENCES))):
        busy(many)
