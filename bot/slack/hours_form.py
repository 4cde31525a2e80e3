"""The "Interview hours" form: an interviewer's weekly hours, days off, invitation email and
private calendar address (issue 10), and reading a submission back.

Block ids are the field names of bot.flows.interviewer_setup, so the flow's errors land
next to their fields (``response_action: errors``). The calendar address is never put in
the form: only its host is shown, and an empty field keeps the stored one.
"""

from __future__ import annotations

from typing import Any

from bot.flows.interviewer_setup import WEEKDAYS, HoursEntry, HoursForm
from bot.limits import BusyFeedLimit, SchedulingLimit
from bot.slack.modals import (
    Block,
    _checked,
    _element,
    _input,
    _modal,
    _number,
    _number_input,
    _option,
    _state,
    _text,
    _text_input,
)

HOURS = "interviewer_hours"
STOP_FEED = "stop"


def hours_view(form: HoursForm) -> Block:
    days = [_option(str(day), name) for day, name in enumerate(WEEKDAYS)]
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "When can candidates book a live interview with you? They are "
                "offered only times inside these hours that your calendar shows free.",
            },
        },
        _input(
            "time_zone",
            "Time zone",
            _text_input(form.time_zone, max_length=64, placeholder="Europe/Berlin"),
        ),
        _input(
            "days",
            "Days",
            {
                "type": "checkboxes",
                "options": days,
                "initial_options": [days[d] for d in form.weekdays],
            },
        ),
        _input("start", "From", {"type": "timepicker", "initial_time": f"{form.start:%H:%M}"}),
        _input("hours", "To", {"type": "timepicker", "initial_time": f"{form.end:%H:%M}"}),
        _input(
            "slot_minutes",
            "Call length (minutes)",
            _number_input(
                form.slot_minutes,
                SchedulingLimit.SLOT_MINUTES_MIN,
                SchedulingLimit.SLOT_MINUTES_MAX,
            ),
        ),
        _input(
            "buffer_minutes",
            "Pause between calls (minutes)",
            _number_input(form.buffer_minutes, 0, SchedulingLimit.BUFFER_MINUTES_MAX),
        ),
        _input(
            "max_per_day",
            "At most this many calls a day",
            _number_input(form.max_per_day, 1, SchedulingLimit.CALLS_PER_DAY_MAX),
        ),
        _input(
            "days_off",
            "Days off (YYYY-MM-DD, separated by commas)",
            _text_input(
                ", ".join(d.isoformat() for d in form.days_off),
                placeholder="2026-12-24, 2026-12-31",
                max_length=1000,
            ),
            optional=True,
        ),
        _input(
            "email",
            "Email for calendar invitations",
            _text_input(form.email or "", max_length=254, placeholder="you@example.com"),
            optional=True,
        ),
        _input(
            "feed",
            "Your calendar's private iCal address (optional)",
            _text_input(
                max_length=BusyFeedLimit.ADDRESS_CHARS,
                placeholder="https://calendar.google.com/calendar/ical/…/basic.ics",
            ),
            optional=True,
        ),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        f"Now reading {form.feed}: leave the field empty to keep it."
                        if form.feed
                        else "Google: Settings → your calendar → Secret address in iCal "
                        "format. Only when you are busy is read, never what the events are."
                    ),
                }
            ],
        },
    ]
    if form.feed:
        blocks.append(
            _input(
                "stop_feed",
                "Calendar",
                {
                    "type": "checkboxes",
                    "options": [_option(STOP_FEED, "Stop reading my calendar")],
                },
                optional=True,
            )
        )
    return _modal(HOURS, "Interview hours", "Save", blocks)


def read_hours(view: dict[str, Any]) -> HoursEntry:
    """The submission as typed; the flow checks it (values Slack's own checks would stop,
    such as a missing number, arrive here only from a forged submission)."""
    values = _state(view)
    weekdays = tuple(int(day) for day in _checked(values, "days") if day.isdigit() and int(day) < 7)
    return HoursEntry(
        time_zone=_text(values, "time_zone"),
        weekdays=weekdays,
        start=_time(values, "start"),
        end=_time(values, "hours"),
        slot_minutes=_number(values, "slot_minutes", 0),
        buffer_minutes=_number(values, "buffer_minutes", -1),
        max_per_day=_number(values, "max_per_day", 0),
        days_off=_text(values, "days_off"),
        email=_text(values, "email"),
        feed=_text(values, "feed"),
        stop_feed=STOP_FEED in _checked(values, "stop_feed"),
    )


def _time(values: dict[str, Any], block_id: str) -> str:
    return str(_element(values, block_id).get("selected_time") or "")
