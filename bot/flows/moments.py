"""How moments are written for the hiring team (candidates get their own time zone)."""

from __future__ import annotations

from datetime import datetime


def format_deadline(moment: datetime) -> str:
    """A moment for the hiring team, in UTC: Slack shows it next to their own clock."""
    return moment.strftime("%a %d %b %Y, %H:%M UTC")
