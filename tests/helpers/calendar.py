"""A calendar server on 127.0.0.1 that serves one private iCal feed, and can be made to
fail: what an interviewer's Google or Outlook calendar is to hirebot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.flows.interviewer_setup import HoursEntry

SECRET = "private-5ec7e7"  # stands for the secret part of a real private address
# A weekly team meeting on Mondays 10:00-11:00 Berlin time, and an all-day offsite on
# Wednesday 2 December 2026; a cancelled one and one marked free change nothing.
FEED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hirebot tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20261001T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20261102T100000\r\nDTEND;TZID=Europe/Berlin:20261102T110000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Team sync\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:offsite@test\r\nDTSTAMP:20261001T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261202\r\nDTEND;VALUE=DATE:20261203\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:cancelled@test\r\nDTSTAMP:20261001T000000Z\r\n"
    "DTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:free@test\r\nDTSTAMP:20261001T000000Z\r\n"
    "DTSTART:20261201T130000Z\r\nDTEND:20261201T140000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


@dataclass
class Calendar:
    """What the calendar server answers (the feed, an error page, garbage) and how often
    it was asked."""

    url: str = ""
    status: int = 200
    body: str = FEED
    hits: int = 0


@asynccontextmanager
async def calendar_server() -> AsyncIterator[Calendar]:
    served = Calendar()

    async def feed(_: web.Request) -> web.Response:
        served.hits += 1
        return web.Response(status=served.status, text=served.body, content_type="text/calendar")

    app = web.Application()
    app.router.add_get(f"/{SECRET}/basic.ics", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.url = f"http://127.0.0.1:{port}/{SECRET}/basic.ics"
    try:
        yield served
    finally:
        await runner.cleanup()


def weekday_hours(zone: str, start: str, end: str, feed: str) -> HoursEntry:
    """The hours form as an interviewer fills it: Monday to Friday ``start``-``end`` in
    ``zone``, one-hour calls back to back, no daily cap to speak of, reading ``feed``."""
    return HoursEntry(
        time_zone=zone,
        weekdays=(0, 1, 2, 3, 4),
        start=start,
        end=end,
        slot_minutes=60,
        buffer_minutes=0,
        max_per_day=12,
        days_off="",
        email="",
        feed=feed,
    )
