"""How moments and durations are written for the hiring team (candidates get theirs in
their own language and time zone, from ``texts``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone called ``name``, or None when there is none (or the name is not one:
    a path, an empty string). Each caller says in its own words what an unknown name means."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def format_deadline(moment: datetime) -> str:
    """A moment for the hiring team, in UTC: Slack shows it next to their own clock."""
    return moment.strftime("%a %d %b %Y, %H:%M UTC")


def recording_length(seconds: float) -> str:
    """A recording's length as a player shows it: "0:45", "2:05"."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def waiting_time(value: timedelta | None) -> str:
    """A span in the team's statistics, coarser as it grows: "40 min", "3 h 5 min", "2 days 3 h"."""
    if value is None:
        return "n/a"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days {hours % 24} h"


def in_readers_zone(moment: datetime) -> str:
    """A moment in Slack mrkdwn that each reader's Slack shows in their own time zone (a
    ``<!date>`` token); a client that cannot shows the UTC fallback."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{format_deadline(moment)}>"
