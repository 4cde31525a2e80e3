"""Fetching a private iCal feed from a local HTTP server (bot/calendar_feed.py), and the
last-good-copy rule (bot/flows/busy_feed.refreshed). The server is on 127.0.0.1, so these
fetchers allow private hosts (HIREBOT_CALENDAR_PRIVATE_HOSTS=allow); what the default
refuses is in tests/test_calendar_feed_guard.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.calendar_feed import AddressPolicy, FeedFetcher, feed_address
from bot.flows.availability import Interval
from bot.flows.busy_feed import FeedCopy, FeedError, FeedTooLarge, refreshed
from bot.limits import BusyFeedLimit

SECRET = "private-3f9c0d2e"  # stands for the secret part of a real private address
FEED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hirebot tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:one@test\r\nDTSTAMP:20261001T000000Z\r\n"
    "DTSTART:20261102T150000Z\r\nDTEND:20261102T160000Z\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
NOW = datetime(2026, 10, 31, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
LOCAL = AddressPolicy(allow_private=True)


async def endless(request: web.Request) -> web.StreamResponse:
    # No Content-Length: the size is only known by reading, so the cap must hold mid-stream.
    response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
    await response.prepare(request)
    chunk = b"X" * (256 * 1024)
    for _ in range(BusyFeedLimit.FEED_BYTES // len(chunk) + 4):
        await response.write(chunk)
    return response


async def basic(_: web.Request) -> web.Response:
    return web.Response(text=FEED, content_type="text/calendar")


async def gone(_: web.Request) -> web.Response:
    return web.Response(status=404)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get(f"/{SECRET}/basic.ics", basic)
    app.router.add_get(f"/{SECRET}/gone.ics", gone)
    app.router.add_get(f"/{SECRET}/endless.ics", endless)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/{SECRET}"
    await runner.cleanup()


async def test_a_feed_is_fetched_and_read_as_busy_time(server: str) -> None:
    fetcher = FeedFetcher(LOCAL)
    body = await fetcher.fetch(f"{server}/basic.ics")
    await fetcher.close()
    copy = refreshed(FeedCopy(), body, START, END, zone=NEW_YORK, now=NOW)
    assert copy.busy == (
        Interval(datetime(2026, 11, 2, 15, tzinfo=UTC), datetime(2026, 11, 2, 16, tzinfo=UTC)),
    )
    assert copy.read_at == NOW and copy.problem is None and not copy.tell_interviewer


async def test_a_missing_or_endless_feed_is_a_feed_error_that_never_names_the_address(
    server: str,
) -> None:
    fetcher = FeedFetcher(LOCAL)
    with pytest.raises(FeedError, match="HTTP 404") as gone:
        await fetcher.fetch(f"{server}/gone.ics")
    with pytest.raises(FeedTooLarge, match="MB") as endless_feed:
        await fetcher.fetch(f"{server}/endless.ics")
    with pytest.raises(FeedError, match="could not be read") as closed:
        await fetcher.fetch(f"http://127.0.0.1:9/{SECRET}/feed.ics")
    await fetcher.close()
    for error in (gone, endless_feed, closed):
        assert SECRET not in str(error.value)


def test_webcal_is_https_and_other_schemes_are_refused() -> None:
    assert feed_address(" webcal://p01-caldav.example/x.ics ") == "https://p01-caldav.example/x.ics"
    assert (
        feed_address("https://calendar.example/basic.ics") == "https://calendar.example/basic.ics"
    )
    for bad in ("file:///etc/passwd", "ftp://host/x.ics", "not an address", "https://"):
        with pytest.raises(FeedError, match="https://"):
            feed_address(bad)


def test_a_broken_feed_keeps_the_last_good_copy_and_tells_the_interviewer_once() -> None:
    good = refreshed(FeedCopy(), FEED, START, END, zone=NEW_YORK, now=NOW)
    later = datetime(2026, 11, 1, tzinfo=UTC)
    broken = refreshed(good, "<html>Sign in</html>", START, END, zone=NEW_YORK, now=later)
    assert broken.busy == good.busy and broken.read_at == NOW
    assert broken.problem is not None and "readable" in broken.problem
    assert broken.tell_interviewer
    still = refreshed(broken, FeedError("unreachable"), START, END, zone=NEW_YORK, now=later)
    assert still.busy == good.busy and still.problem == "unreachable"
    assert not still.tell_interviewer  # told once already
    fixed = refreshed(still, FEED, START, END, zone=NEW_YORK, now=later)
    assert fixed == FeedCopy(busy=good.busy, read_at=later)
    # A feed that was never good is still reported on its first failure.
    assert refreshed(FeedCopy(), "", START, END, zone=NEW_YORK, now=NOW).tell_interviewer
