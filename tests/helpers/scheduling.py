"""The live-interview story most scheduling tests tell: an interviewer in New York
(09:00-12:00 on weekdays, one-hour calls) and a candidate in Tokyo, two days before New York's
clocks go forward on Sunday 14 March 2027. New York's 09:00 is 23:00 in Tokyo before the
change and 22:00 after it."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2027, 3, 12, 0, 0, tzinfo=UTC)
NEW_YORK = "U0NEWYORK"
# The candidate's first two pages of times, as their buttons read in Tokyo.
FIRST_PAGE = [
    "Fri 12 Mar 2027, 23:00",
    "Sat 13 Mar 2027, 00:00",
    "Sat 13 Mar 2027, 01:00",
    "Mon 15 Mar 2027, 22:00",
    "Mon 15 Mar 2027, 23:00",
]
SECOND_PAGE = [
    "Tue 16 Mar 2027, 00:00",
    "Tue 16 Mar 2027, 22:00",
    "Tue 16 Mar 2027, 23:00",
    "Wed 17 Mar 2027, 00:00",
    "Wed 17 Mar 2027, 22:00",
]
LATER = "Later dates ➡️"
