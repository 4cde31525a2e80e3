"""Weekly hours to free slots: local hours stay local across DST, buffers, daily maximum,
days off, minimum notice, panels (bot/flows/availability.py). Pure: no world needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.flows.availability import (
    Availability,
    AvailabilityError,
    DailyHours,
    Interval,
    WeeklyHours,
    free_slots,
    page_after,
    panel_slots,
)

NEW_YORK = "America/New_York"
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY, TUESDAY, WEDNESDAY = 0, 1, 2


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def hours(
    *days: DailyHours,
    zone: str = NEW_YORK,
    slot: int = 60,
    buffer: int = 0,
    max_per_day: int = 8,
    off: frozenset[date] = frozenset(),
) -> WeeklyHours:
    return WeeklyHours(
        time_zone=zone,
        days=days,
        slot_minutes=slot,
        buffer_minutes=buffer,
        max_per_day=max_per_day,
        days_off=off,
    )


def mornings(*weekdays: int) -> tuple[DailyHours, ...]:
    return tuple(DailyHours(day, time(9), time(12)) for day in weekdays)


def starts(slots: list[Interval]) -> list[datetime]:
    return [slot.start for slot in slots]


# Long before the windows searched, so the default 12 h notice cuts nothing.
EARLY = utc(2026, 10, 1)


def test_local_hours_stay_local_across_the_new_york_dst_change() -> None:
    # Clocks in New York go back on Sunday 2026-11-01: 09:00 is 13:00 UTC the Monday before
    # and 14:00 UTC the Monday after. Tokyo has no DST, so its reader sees the shift.
    assert date(2026, 11, 1).weekday() == 6
    week = Availability(hours(*mornings(MONDAY)))
    slots = free_slots(week, utc(2026, 10, 26), utc(2026, 11, 3), now=EARLY)
    assert starts(slots) == [
        utc(2026, 10, 26, 13),
        utc(2026, 10, 26, 14),
        utc(2026, 10, 26, 15),
        utc(2026, 11, 2, 14),
        utc(2026, 11, 2, 15),
        utc(2026, 11, 2, 16),
    ]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)
    new_york = ZoneInfo(NEW_YORK)
    assert {s.start.astimezone(new_york).time() for s in slots} == {time(9), time(10), time(11)}
    # The candidate in Tokyo reads the same instants: 22:00 JST before the change, 23:00 after.
    in_tokyo = [s.start.astimezone(TOKYO) for s in slots]
    assert [t.strftime("%m-%d %H:%M") for t in in_tokyo] == [
        "10-26 22:00",
        "10-26 23:00",
        "10-27 00:00",
        "11-02 23:00",
        "11-03 00:00",
        "11-03 01:00",
    ]
    assert all(s.start.tzinfo is UTC for s in slots)


def test_the_buffer_spaces_the_grid_and_keeps_distance_from_busy_events() -> None:
    week = hours(*mornings(MONDAY), slot=45, buffer=15)
    # 09:00, 10:00, 11:00 local (EST, UTC-5): each 45 min, 15 min apart; 11:00-11:45 fits.
    empty = free_slots(Availability(week), utc(2026, 11, 2), utc(2026, 11, 3), now=EARLY)
    assert starts(empty) == [utc(2026, 11, 2, 14), utc(2026, 11, 2, 15), utc(2026, 11, 2, 16)]
    # A calendar event 10:50-11:00 local is within 15 min of both 10:00-10:45 and 11:00-11:45.
    busy = Availability(week, busy=(Interval(utc(2026, 11, 2, 15, 50), utc(2026, 11, 2, 16)),))
    assert starts(free_slots(busy, utc(2026, 11, 2), utc(2026, 11, 3), now=EARLY)) == [
        utc(2026, 11, 2, 14)
    ]
    # A call at exactly 10:00-10:45 local hides that slot only: its neighbours are exactly
    # one buffer away (half-open intervals), as two bookings back to back would be.
    exact = Availability(week, busy=(Interval(utc(2026, 11, 2, 15), utc(2026, 11, 2, 15, 45)),))
    assert starts(free_slots(exact, utc(2026, 11, 2), utc(2026, 11, 3), now=EARLY)) == [
        utc(2026, 11, 2, 14),
        utc(2026, 11, 2, 16),
    ]
    # One minute longer and the 11:00 slot loses its pause.
    longer = Availability(week, busy=(Interval(utc(2026, 11, 2, 15), utc(2026, 11, 2, 15, 46)),))
    assert starts(free_slots(longer, utc(2026, 11, 2), utc(2026, 11, 3), now=EARLY)) == [
        utc(2026, 11, 2, 14)
    ]


def test_a_day_with_its_maximum_of_calls_offers_nothing_more() -> None:
    week = hours(*mornings(MONDAY, TUESDAY), max_per_day=2)
    monday = (utc(2026, 11, 2, 14), utc(2026, 11, 2, 15))
    two_booked = tuple(Interval(s, s + timedelta(hours=1)) for s in monday)
    full = Availability(week, booked=two_booked)
    slots = free_slots(full, utc(2026, 11, 2), utc(2026, 11, 4), now=EARLY)
    # Monday is full (its 16:00 UTC slot is free but a third call); Tuesday is untouched.
    assert starts(slots) == [utc(2026, 11, 3, 14), utc(2026, 11, 3, 15), utc(2026, 11, 3, 16)]
    # Calendar events hide their own time but are not hirebot calls: the day is not full.
    same_as_busy = Availability(week, busy=two_booked)
    assert utc(2026, 11, 2, 16) in starts(
        free_slots(same_as_busy, utc(2026, 11, 2), utc(2026, 11, 3), now=EARLY)
    )


def test_a_day_off_has_no_slots_and_the_other_days_keep_theirs() -> None:
    week = hours(*mornings(MONDAY, TUESDAY, WEDNESDAY), off=frozenset({date(2026, 11, 3)}))
    slots = free_slots(Availability(week), utc(2026, 11, 2), utc(2026, 11, 5), now=EARLY)
    local_days = {s.start.astimezone(ZoneInfo(NEW_YORK)).date() for s in slots}
    assert local_days == {date(2026, 11, 2), date(2026, 11, 4)}


def test_a_slot_sooner_than_the_minimum_notice_is_not_offered() -> None:
    week = Availability(hours(*mornings(MONDAY, TUESDAY)))
    now = utc(2026, 11, 2, 14, 30)  # Monday 09:30 in New York
    # 24 h notice: Monday is gone, and Tuesday's 09:00 (14:00 UTC) is 23.5 h away.
    slots = free_slots(
        week, utc(2026, 11, 2), utc(2026, 11, 4), now=now, notice=timedelta(hours=24)
    )
    assert starts(slots) == [utc(2026, 11, 3, 15), utc(2026, 11, 3, 16)]
    # A window entirely inside the notice has nothing.
    assert free_slots(week, utc(2026, 11, 2), utc(2026, 11, 3), now=now) == []


def test_a_panel_is_offered_only_slots_every_member_is_free_for() -> None:
    lead = Availability(hours(*mornings(MONDAY)))
    # Berlin (UTC+1 in November): free 15:00-17:00 local = 14:00-16:00 UTC, busy 14:00-15:00.
    berlin = Availability(
        hours(DailyHours(MONDAY, time(15), time(17)), zone="Europe/Berlin"),
        busy=(Interval(utc(2026, 11, 2, 14), utc(2026, 11, 2, 14, 30)),),
    )
    window = (utc(2026, 11, 2), utc(2026, 11, 3))
    assert starts(panel_slots([lead, berlin], *window, now=EARLY)) == [utc(2026, 11, 2, 15)]
    # One member with the day off leaves the panel nothing that day.
    away = Availability(
        hours(*mornings(MONDAY), off=frozenset({date(2026, 11, 2)})),
    )
    assert panel_slots([lead, away], *window, now=EARLY) == []
    # A panel of one is the interviewer alone.
    assert panel_slots([lead], *window, now=EARLY) == free_slots(lead, *window, now=EARLY)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: hours(*mornings(MONDAY), zone="Mars/Olympus"), "unknown time zone"),
        (lambda: hours(), "at least one day"),
        (lambda: hours(*mornings(MONDAY), slot=5), "a call lasts"),
        (lambda: hours(*mornings(MONDAY), max_per_day=0), "calls per day"),
        (lambda: DailyHours(MONDAY, time(12), time(9)), "end before"),
        (
            lambda: hours(
                DailyHours(MONDAY, time(9), time(12)), DailyHours(MONDAY, time(11), time(13))
            ),
            "overlap",
        ),
    ],
)
def test_unusable_hours_are_refused_with_words_for_the_interviewer(
    make: Callable[[], object], words: str
) -> None:
    with pytest.raises(AvailabilityError, match=words):
        make()


def test_naive_times_and_overlong_windows_are_bugs_not_guesses() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 11, 2, 9), utc(2026, 11, 2, 10))
    week = Availability(hours(*mornings(MONDAY)))
    with pytest.raises(ValueError, match="at most"):
        free_slots(week, utc(2026, 11, 2), utc(2027, 11, 2), now=EARLY)


def test_hours_spanning_the_change_itself_hold_the_real_hours_of_that_night() -> None:
    sunday = 6
    night = hours(DailyHours(sunday, time(0), time(4)))
    # Fall back (2026-11-01): 00:00-04:00 on the wall is five real hours, 01:00 twice.
    autumn = free_slots(Availability(night), utc(2026, 11, 1), utc(2026, 11, 2), now=EARLY)
    assert starts(autumn) == [utc(2026, 11, 1, h) for h in (4, 5, 6, 7, 8)]
    new_york = ZoneInfo(NEW_YORK)
    assert [s.start.astimezone(new_york).strftime("%H:%M%z") for s in autumn] == [
        "00:00-0400",
        "01:00-0400",
        "01:00-0500",
        "02:00-0500",
        "03:00-0500",
    ]
    # Spring forward (2026-03-08): 02:00-03:00 does not exist, so the night is three hours.
    spring = free_slots(Availability(night), utc(2026, 3, 8), utc(2026, 3, 9), now=utc(2026, 3, 1))
    assert starts(spring) == [utc(2026, 3, 8, h) for h in (5, 6, 7)]


def test_later_dates_page_by_instant_so_a_slot_taken_meanwhile_shifts_nothing() -> None:
    week = Availability(hours(*mornings(MONDAY, TUESDAY, WEDNESDAY)))
    slots = free_slots(week, utc(2026, 11, 2), utc(2026, 11, 5), now=EARLY)
    assert len(slots) == 9
    first = page_after(slots, size=4)
    assert first.slots == tuple(slots[:4]) and first.more_after == slots[3].start
    # Someone books the fifth slot before the candidate presses "later dates".
    remaining = [s for s in slots if s != slots[4]]
    second = page_after(remaining, first.more_after, size=4)
    assert second.slots == tuple(slots[5:9]) and second.more_after is None
    assert page_after([], None).slots == () and page_after([], None).more_after is None
