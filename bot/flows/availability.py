"""When an interviewer can be booked, and the slots a candidate is offered (issue 10).

An interviewer's weekly hours are kept as wall-clock times in their own IANA time zone:
"Mondays 09:00–12:00 in New York" stays 09:00–12:00 New York time on both sides of a
daylight-saving change, so its UTC instants move by an hour. Everything that leaves this
module is a timezone-aware UTC instant; adapters convert to the candidate's zone only to
show it.

Pure rules: no database, no clock (``now`` is passed in), no network. Busy intervals come
from the interviewer's calendar feed (bot.flows.busy_feed) and from hirebot's own bookings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from bot.flows.moments import known_zone
from bot.limits import SchedulingLimit


class AvailabilityError(ValueError):
    """Hours that cannot be used (an unknown zone, a slot longer than its day…): the
    message is meant for the interviewer who typed them, and ``field`` names what they
    typed wrong (time_zone, days, hours, slot_minutes, buffer_minutes, max_per_day), so a
    form can show it next to that field."""

    def __init__(self, message: str, field: str = "hours") -> None:
        super().__init__(message)
        self.field = field


def as_utc(moment: datetime, what: str = "time") -> datetime:
    """``moment`` in UTC; a naive datetime is a bug (whose clock would it be?), not a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def zone_named(name: str) -> ZoneInfo:
    zone = known_zone(name)
    if zone is None:
        raise AvailabilityError(f"unknown time zone {name!r}", "time_zone")
    return zone


@dataclass(frozen=True)
class Interval:
    """[start, end) in UTC. Half-open, so a call ending at 10:00 and one starting at 10:00
    do not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start, "start"))
        object.__setattr__(self, "end", as_utc(self.end, "end"))
        if self.end <= self.start:
            raise ValueError(f"interval ends before it starts: {self.start} – {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def widened(self, by: timedelta) -> Interval:
        return Interval(self.start - by, self.end + by)


@dataclass(frozen=True)
class DailyHours:
    """One stretch of a weekday, in the interviewer's wall-clock time. A weekday may have
    several (09:00–12:00 and 14:00–17:00)."""

    weekday: int  # 0 Monday … 6 Sunday, as date.weekday()
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise AvailabilityError(
                f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}", "days"
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise AvailabilityError("daily hours are wall-clock times; the zone is the week's")
        if self.end <= self.start:
            raise AvailabilityError(
                f"hours end before they start: {self.start:%H:%M}–{self.end:%H:%M}"
            )


@dataclass(frozen=True)
class WeeklyHours:
    """What an interviewer sets once: their zone, their days and hours, how long a call is,
    the pause they need between calls, how many calls a day at most, and days off."""

    time_zone: str
    days: tuple[DailyHours, ...]
    slot_minutes: int
    buffer_minutes: int = 0
    max_per_day: int = int(SchedulingLimit.CALLS_PER_DAY_MAX)
    # One-off exceptions: local dates with no calls at all (holidays, a conference).
    days_off: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        zone_named(self.time_zone)
        if not self.days:
            raise AvailabilityError("set the hours of at least one day of the week", "days")
        if (
            not SchedulingLimit.SLOT_MINUTES_MIN
            <= self.slot_minutes
            <= (SchedulingLimit.SLOT_MINUTES_MAX)
        ):
            raise AvailabilityError(
                f"a call lasts {SchedulingLimit.SLOT_MINUTES_MIN} to "
                f"{SchedulingLimit.SLOT_MINUTES_MAX} minutes, not {self.slot_minutes}",
                "slot_minutes",
            )
        if not 0 <= self.buffer_minutes <= SchedulingLimit.BUFFER_MINUTES_MAX:
            raise AvailabilityError(
                f"the pause between calls is 0 to {SchedulingLimit.BUFFER_MINUTES_MAX} minutes",
                "buffer_minutes",
            )
        if not 1 <= self.max_per_day <= SchedulingLimit.CALLS_PER_DAY_MAX:
            raise AvailabilityError(
                f"calls per day are 1 to {SchedulingLimit.CALLS_PER_DAY_MAX}, "
                f"not {self.max_per_day}",
                "max_per_day",
            )
        for weekday in range(7):
            stretches = sorted((d.start, d.end) for d in self.days if d.weekday == weekday)
            for (_, end), (start, _) in pairwise(stretches):
                if start < end:
                    raise AvailabilityError(f"hours overlap on weekday {weekday}")

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    def local_day(self, moment: datetime) -> date:
        return as_utc(moment).astimezone(self.zone).date()

    def windows_on(self, day: date) -> list[Interval]:
        """The stretches of a local date as UTC intervals; none on a day off.

        A wall-clock time that does not exist (02:30 on a spring-forward night) is read with
        the offset before the change, as zoneinfo does (fold=0); a repeated one (01:30 on a
        fall-back night) is its first occurrence."""
        if day in self.days_off:
            return []
        zone = self.zone
        windows = []
        for stretch in sorted(self.days, key=lambda d: d.start):
            if stretch.weekday != day.weekday():
                continue
            start = datetime.combine(day, stretch.start, tzinfo=zone)
            end = datetime.combine(day, stretch.end, tzinfo=zone)
            if as_utc(end) > as_utc(start):
                windows.append(Interval(start, end))
        return windows


@dataclass(frozen=True)
class Availability:
    """One interviewer at the time of a search: their hours and what already fills them."""

    hours: WeeklyHours
    # From their calendar feed: hides overlapping slots, does not count as a call.
    busy: tuple[Interval, ...] = ()
    # hirebot's own bookings: hide overlapping slots and count towards max_per_day.
    booked: tuple[Interval, ...] = ()

    def is_free(self, slot: Interval) -> bool:
        """Whether ``slot`` could be booked with this interviewer: inside their hours that
        local day, not on a day off, the day not full, and at least the buffer away from
        every busy event and booking (the pause is for any call, not only hirebot's)."""
        hours = self.hours
        day = hours.local_day(slot.start)
        if not any(window.contains(slot) for window in hours.windows_on(day)):
            return False
        booked_that_day = sum(1 for b in self.booked if hours.local_day(b.start) == day)
        if booked_that_day >= hours.max_per_day:
            return False
        return not any(
            taken.widened(hours.buffer).overlaps(slot) for taken in (*self.busy, *self.booked)
        )


def slot_grid(hours: WeeklyHours, window: Interval) -> Iterator[Interval]:
    """Every slot the hours allow whose start lies in ``window``, in order: each stretch
    from its start, one slot plus one buffer apart. A grid (not every free minute) keeps
    the offer short and lets bookings sit back to back with exactly the buffer between."""
    zone = hours.zone
    step = hours.slot + hours.buffer
    # A day's stretches can start on the previous or next UTC date: look one day around.
    day = window.start.astimezone(zone).date() - timedelta(days=1)
    last = window.end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        for stretch in hours.windows_on(day):
            start = stretch.start
            while start + hours.slot <= stretch.end:
                if window.start <= start < window.end:
                    yield Interval(start, start + hours.slot)
                start += step
        day += timedelta(days=1)


def search_window(
    start: datetime, end: datetime, now: datetime, notice: timedelta
) -> Interval | None:
    """[start, end) cut so no slot starts sooner than ``notice`` after ``now``; None when
    nothing is left of it."""
    window = Interval(start, end)
    if window.end - window.start > timedelta(days=SchedulingLimit.WINDOW_DAYS_MAX):
        raise ValueError(f"a search covers at most {SchedulingLimit.WINDOW_DAYS_MAX} days")
    earliest = max(window.start, as_utc(now, "now") + notice)
    return Interval(earliest, window.end) if earliest < window.end else None


def free_slots(
    availability: Availability,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    notice: timedelta = timedelta(hours=SchedulingLimit.MIN_NOTICE_HOURS),
) -> list[Interval]:
    """The slots one interviewer could take whose start is in [start, end) and at least
    ``notice`` after ``now``, earliest first."""
    return panel_slots([availability], start, end, now=now, notice=notice)


def panel_slots(
    panel: Sequence[Availability],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    notice: timedelta = timedelta(hours=SchedulingLimit.MIN_NOTICE_HOURS),
) -> list[Interval]:
    """The slots where every interviewer of a panel is free. The first one named leads: their
    hours set the grid (slot length and start times); each member's own hours, days off,
    buffer, busy events and daily maximum then decide whether they can join it."""
    if not panel:
        raise ValueError("a panel names at least one interviewer")
    window = search_window(start, end, now, notice)
    if window is None:
        return []
    return [
        slot
        for slot in slot_grid(panel[0].hours, window)
        if all(member.is_free(slot) for member in panel)
    ]


@dataclass(frozen=True)
class SlotPage:
    slots: tuple[Interval, ...]
    # Start of the last slot shown: "later dates" asks for the page after it. None: no more.
    more_after: datetime | None


def page_after(
    slots: Sequence[Interval],
    after: datetime | None = None,
    size: int = int(SchedulingLimit.SLOTS_PER_PAGE),
) -> SlotPage:
    """The next ``size`` slots starting after ``after`` (from the first when None).

    Paged by instant, not by page number: slots are computed afresh on every press, and a
    slot booked by someone else meanwhile must not shift the pages a candidate sees."""
    later = sorted(
        (s for s in slots if after is None or s.start > as_utc(after, "after")),
        key=lambda s: s.start,
    )
    page = tuple(later[:size])
    return SlotPage(page, page[-1].start if len(later) > size else None)
