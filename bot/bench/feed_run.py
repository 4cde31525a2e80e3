"""One case of ``hirebot bench calendar-feed``, in a fresh process so its peak RSS is its own.

Argument: the case name. Prints one JSON line: seconds, peak RSS, the feed's size, what came
of reading it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.flows.busy_feed import FeedError, busy_intervals
from bot.limits import BusyFeedLimit, SchedulingLimit

START = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
ZONE = ZoneInfo("America/New_York")


def _event(uid: str, start: datetime, minutes: int, rule: str = "") -> str:
    end = start + timedelta(minutes=minutes)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T000000Z\r\n"
        f"DTSTART;TZID=America/New_York:{start:%Y%m%dT%H%M%S}\r\n"
        f"DTEND;TZID=America/New_York:{end:%Y%m%dT%H%M%S}\r\n"
        f"{rule}SUMMARY:Busy {uid}\r\nDESCRIPTION:{'x' * 120}\r\nEND:VEVENT\r\n"
    )


def feed(case: str) -> str:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hirebot bench//EN\r\n"
    local = START.astimezone(ZONE).replace(tzinfo=None, hour=9)
    if case == "busy-year":  # 40 weekly series and 1,500 one-off meetings over a year
        body = [
            _event(f"w{i}", local + timedelta(days=i % 5, hours=i % 8), 30, "RRULE:FREQ=WEEKLY\r\n")
            for i in range(40)
        ]
        body += [_event(f"o{i}", local + timedelta(hours=5 * i), 45) for i in range(1500)]
    elif case == "years-of-history":  # what Google exports: 8 years back, 40 live series
        body = [
            _event(f"w{i}", local + timedelta(days=i % 5, hours=i % 8), 30, "RRULE:FREQ=WEEKLY\r\n")
            for i in range(40)
        ]
        body += [_event(f"p{i}", local - timedelta(hours=5 * i), 45) for i in range(1, 14_000)]
    elif case == "most-events":  # 15,000 meetings over 8 years: near the size bound
        body = [_event(f"e{i}", local + timedelta(hours=5 * i), 30) for i in range(15_000)]
    elif case == "too-many-events":  # small events, more of them than EVENTS
        body = [
            f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20270104T{i % 24:02}0000Z\r\nEND:VEVENT\r\n"
            for i in range(20_001)
        ]
    elif case == "hourly-forever":  # 3 lines that would expand to ~2,200 occurrences
        body = [_event("h", local, 30, "RRULE:FREQ=HOURLY\r\n")]
    elif case == "over-size":
        body = [_event(f"e{i}", local + timedelta(hours=i), 30) for i in range(19_000)]
        body.append(f"X-PAD:{'y' * 70}\r\n" * 40_000)
    else:
        raise SystemExit(f"unknown case {case}")
    return head + "".join(body) + "END:VCALENDAR\r\n"


def main(case: str) -> None:
    ics = feed(case).encode()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    end = START + timedelta(days=SchedulingLimit.WINDOW_DAYS_MAX)
    try:
        found = busy_intervals(ics, START, end, zone=ZONE)
        outcome = f"{len(found)} busy intervals"
    except FeedError as error:
        outcome = f"refused: {error}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "case": case,
                "megabytes": len(ics) / 1024 / 1024,
                "limit_megabytes": BusyFeedLimit.FEED_BYTES / 1024 / 1024,
                "seconds": seconds,
                "peak_mb": peak,
                "before_mb": before,
                "outcome": outcome,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
