"""A pasted calendar address cannot make hirebot read its own network (server-side request
forgery): loopback, private, link-local and cloud-metadata addresses are refused, whether
written as an IP, reached through a host name or through a redirect; the connection goes only
to an address that passed the check. HIREBOT_CALENDAR_PRIVATE_HOSTS=allow lets loopback and
private networks through (tests, the sandbox), never link-local."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.calendar_feed import REFUSED, AddressPolicy, FeedFetcher
from bot.config import Settings
from bot.flows.busy_feed import FeedError

FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n"
SECRET = "private-77aa"
DEFAULT = AddressPolicy()
LOCAL = AddressPolicy(allow_private=True)


@dataclass
class FeedServer:
    port: int = 0
    hits: list[str] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    served = FeedServer()

    async def feed(request: web.Request) -> web.Response:
        served.hits.append(request.path)
        return web.Response(body=FEED, content_type="text/calendar")

    async def to_metadata(request: web.Request) -> web.Response:
        served.hits.append(request.path)
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def to_feed(request: web.Request) -> web.Response:
        served.hits.append(request.path)
        raise web.HTTPFound(f"/{SECRET}/basic.ics")

    app = web.Application()
    app.router.add_get(f"/{SECRET}/basic.ics", feed)
    app.router.add_get("/moved-to-metadata", to_metadata)
    app.router.add_get("/moved", to_feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield served
    await runner.cleanup()


class StubDns(AbstractResolver):
    """A DNS server's answers for names that do not exist, as a resolver would return them."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=ip, port=port, family=socket.AF_INET, proto=0, flags=0
            )
            for ip in self.answers[host]
        ]

    async def close(self) -> None:
        return None


async def refused(fetcher: FeedFetcher, address: str) -> str:
    with pytest.raises(FeedError) as error:
        await fetcher.fetch(address)
    return str(error.value)


def test_the_policy_keeps_only_public_addresses_unless_private_hosts_are_allowed() -> None:
    public = ["8.8.8.8", "2606:4700:4700::1111"]
    private = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "::1", "fd00::1"]
    never = ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254", "0.0.0.0", "224.0.0.1"]
    assert all(DEFAULT.allows(ip) for ip in public)
    assert not any(DEFAULT.allows(ip) for ip in [*private, *never, "::ffff:127.0.0.1"])
    assert all(LOCAL.allows(ip) for ip in [*public, *private])
    assert not any(LOCAL.allows(ip) for ip in never)  # cloud metadata stays out of reach
    assert not DEFAULT.allows("not an address")


def test_private_hosts_are_refused_unless_the_setting_says_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().calendar_private_hosts == "refuse"
    monkeypatch.setenv("HIREBOT_CALENDAR_PRIVATE_HOSTS", "allow")
    assert Settings().calendar_private_hosts == "allow"


async def test_loopback_private_and_metadata_addresses_are_refused_by_default(
    server: FeedServer,
) -> None:
    fetcher = FeedFetcher(DEFAULT)
    for address in (
        f"http://127.0.0.1:{server.port}/{SECRET}/basic.ics",
        f"http://localhost:{server.port}/{SECRET}/basic.ics",  # a name resolving to loopback
        f"http://[::ffff:127.0.0.1]:{server.port}/{SECRET}/basic.ics",
        f"http://10.0.0.7/{SECRET}/basic.ics",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
    ):
        assert await refused(fetcher, address) == REFUSED, address
    # A number that some resolvers read as 127.0.0.1 is no way round it either.
    await refused(fetcher, f"http://2130706433:{server.port}/{SECRET}/basic.ics")
    await fetcher.close()
    assert server.hits == []  # nothing reached the local server
    assert SECRET not in REFUSED


async def test_allowed_private_hosts_are_read_but_a_redirect_to_metadata_is_not(
    server: FeedServer,
) -> None:
    fetcher = FeedFetcher(LOCAL)
    assert await fetcher.fetch(f"http://127.0.0.1:{server.port}/{SECRET}/basic.ics") == FEED
    assert await fetcher.fetch(f"http://localhost:{server.port}/moved") == FEED  # followed
    message = await refused(fetcher, f"http://127.0.0.1:{server.port}/moved-to-metadata")
    assert message == REFUSED
    await fetcher.close()
    feed = f"/{SECRET}/basic.ics"
    assert server.hits == [feed, "/moved", feed, "/moved-to-metadata"]


async def test_a_name_is_connected_to_only_at_an_address_that_passed_the_check(
    server: FeedServer,
) -> None:
    dns = StubDns(
        {
            "calendar.example": ["169.254.169.254", "127.0.0.1"],
            "metadata.example": ["169.254.169.254"],
            "intranet.example": ["10.0.0.7", "192.168.0.9"],
        }
    )
    # Private hosts allowed: of the two answers, only loopback is kept and connected to.
    fetcher = FeedFetcher(LOCAL, resolver=dns)
    address = f"http://calendar.example:{server.port}/{SECRET}/basic.ics"
    assert await fetcher.fetch(address) == FEED
    assert await refused(fetcher, "http://metadata.example/latest/") == REFUSED
    await fetcher.close()
    # By default none of them is kept: refused before any connection.
    strict = FeedFetcher(DEFAULT, resolver=dns)
    for name in ("calendar.example", "intranet.example", "metadata.example"):
        assert await refused(strict, f"http://{name}:{server.port}/{SECRET}/basic.ics") == REFUSED
    await strict.close()
    assert server.hits == [f"/{SECRET}/basic.ics"]
