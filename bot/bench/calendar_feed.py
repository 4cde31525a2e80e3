"""``hirebot bench calendar-feed``: time and peak memory of reading an interviewer's feed.

A pasted calendar address is untrusted input: whatever it serves is read within
BusyFeedLimit's bounds (size, events, occurrences). Each case runs in a fresh process
(bot.bench.feed_run), so the peak RSS printed is that case's alone, next to the process's
size before the read (imports and the generated feed).
"""

from __future__ import annotations

import argparse
import sys

from bot.bench.fresh_process import run_json

CASES = (
    "busy-year",
    "years-of-history",
    "most-events",
    "too-many-events",
    "hourly-forever",
    "over-size",
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "cases", nargs="*", metavar="CASE", help=f"some of {', '.join(CASES)} (default: all)"
    )
    parser.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    print("hirebot bench calendar-feed: one fresh process per feed, 92 days read")
    unknown = set(args.cases) - set(CASES)
    if unknown:
        print(f"unknown case(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for case in args.cases or CASES:
        row = run_json("bot.bench.feed_run", case, what=f"the {case} feed")
        print(
            f"  {row['case']:16} {row['megabytes']:5.2f} MB  {row['seconds']:6.2f} s  "
            f"peak RSS {row['peak_mb']:5.0f} MB (before the read {row['before_mb']:4.0f} MB)  "
            f"{row['outcome']}"
        )
    return 0
