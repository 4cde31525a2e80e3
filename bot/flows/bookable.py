"""Which times an interview can book now: the opening's interviewers' free slots (issue 10).

A panel needs all of its interviewers free at once; otherwise any one will do, and each
slot goes to the free interviewer with the fewest calls that week. Computed afresh on every
press (``bot.flows.scheduling``), a page's worth at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.flows import booking, interviewer_hours
from bot.flows.availability import (
    Availability,
    AvailabilityError,
    Interval,
    free_slots,
    panel_slots,
)
from bot.limits import SchedulingLimit
from storage.models import Opening


@dataclass(frozen=True)
class Slot:
    """A time that can be booked, and who would take the call."""

    interval: Interval
    interviewers: tuple[str, ...]

    @property
    def start(self) -> datetime:
        return self.interval.start


@dataclass(frozen=True)
class Slots:
    """What an opening can offer now, and who keeps it from offering more: interviewers who
    have set no hours (or whose stored hours no longer hold)."""

    slots: tuple[Slot, ...]
    no_hours: tuple[str, ...]

    def at(self, start: datetime) -> Slot | None:
        return next((s for s in self.slots if s.start == start), None)


def horizon(now: datetime) -> Interval:
    return Interval(now, now + timedelta(days=SchedulingLimit.OFFER_DAYS))


def open_slots(
    session: Session,
    opening: Opening,
    now: datetime,
    *,
    only: Sequence[str] | None = None,
    moving: Interval | None = None,
    within: Interval | None = None,
) -> Slots:
    """The slots an interview of ``opening`` can book now (starting ``within`` the offer's
    horizon), earliest first.

    ``only``: the interviewers of a booked call being moved; they keep the call, so they are
    treated as a panel whatever the opening says. ``moving``: that call's time, which is
    theirs to leave: it neither counts towards their day's maximum nor needs a buffer.
    """
    people = list(dict.fromkeys(only if only is not None else opening.interviewers))
    window = horizon(now)
    if within is not None:
        start, end = max(window.start, within.start), min(window.end, within.end)
        if end <= start:
            return Slots((), ())
        window = Interval(start, end)
    found = {who: _availability(session, who, window, moving) for who in people}
    no_hours = tuple(who for who, a in found.items() if a is None)
    ready = {who: a for who, a in found.items() if a is not None}
    if not ready or (no_hours and (opening.panel or only is not None)):
        return Slots((), no_hours)
    if opening.panel or only is not None:
        team = tuple(ready)
        times = panel_slots(list(ready.values()), window.start, window.end, now=now)
        return Slots(tuple(Slot(t, team) for t in times if t != moving), no_hours)
    return Slots(_any_one(session, ready, window, now), no_hours)


def slots_after(
    session: Session,
    opening: Opening,
    now: datetime,
    after: datetime | None,
    *,
    only: Sequence[str] | None = None,
    moving: Interval | None = None,
) -> Slots:
    """Enough slots after ``after`` (from the first when None) for one page and to know
    whether another follows. Searched a week at a time: a press computes the page it shows,
    not the four weeks behind it (all of them took 0.5-0.7 s for five interviewers)."""
    enough = int(SchedulingLimit.SLOTS_PER_PAGE) + 1
    end = horizon(now).end
    start = max(now, after) if after is not None else now
    collected: list[Slot] = []
    no_hours: tuple[str, ...] = ()
    while start < end and len(collected) < enough:
        step = min(start + timedelta(days=SchedulingLimit.SEARCH_DAYS), end)
        found = open_slots(
            session, opening, now, only=only, moving=moving, within=Interval(start, step)
        )
        no_hours = found.no_hours
        collected.extend(s for s in found.slots if after is None or s.start > after)
        start = step
    return Slots(tuple(collected[:enough]), no_hours)


def _availability(
    session: Session, who: str, window: Interval, moving: Interval | None
) -> Availability | None:
    try:
        found = interviewer_hours.availability_of(session, who, window)
    except AvailabilityError:
        return None  # hours that no longer hold (a zone gone from tzdata): set them again
    if found is None or moving is None:
        return found
    return replace(found, booked=tuple(b for b in found.booked if b != moving))


def _any_one(
    session: Session, ready: dict[str, Availability], window: Interval, now: datetime
) -> tuple[Slot, ...]:
    """Each start any interviewer is free at, given to the one with the fewest calls that
    (local) week, the first named on a tie: the load spreads without anyone choosing."""
    load: dict[tuple[str, tuple[int, int]], int] = {}
    for who, availability in ready.items():
        for taken in booking.busy_with_bookings(session, who, window.widened(timedelta(days=7))):
            week = _week(availability, taken.start)
            load[who, week] = load.get((who, week), 0) + 1
    best: dict[datetime, tuple[int, int, str, Interval]] = {}
    for rank, (who, availability) in enumerate(ready.items()):
        for slot in free_slots(availability, window.start, window.end, now=now):
            key = (load.get((who, _week(availability, slot.start)), 0), rank, who, slot)
            if slot.start not in best or key[:2] < best[slot.start][:2]:
                best[slot.start] = key
    return tuple(
        Slot(interval, (who,))
        for _, _, who, interval in sorted(best.values(), key=lambda k: k[3].start)
    )


def _week(availability: Availability, moment: datetime) -> tuple[int, int]:
    local: date = availability.hours.local_day(moment)
    year, week, _ = local.isocalendar()
    return year, week
