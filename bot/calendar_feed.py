"""Fetching an interviewer's private iCal feed over HTTP(S) (issue 10).

The address is a secret (anyone holding it reads the whole calendar), so it is never logged
and never put in an error message. What comes back is untrusted: it is read in chunks and
dropped past BusyFeedLimit.FEED_BYTES, whatever Content-Length says, and the whole fetch has
a deadline. Every failure is a FeedError the caller can hand to bot.flows.busy_feed.refreshed.

The address is pasted by a person, so it may point anywhere hirebot's server can reach: the
cloud's metadata service (169.254.169.254), a database on the private network, the bot's own
port on 127.0.0.1. ``FeedFetcher`` refuses those (server-side request forgery): a host name is
resolved by ``CheckedResolver``, which drops every address ``AddressPolicy`` refuses, and the
connection is made only to an address it kept (bot.address_policy, shared with webhooks).
An address written as an IP skips resolvers in aiohttp, so it is checked here, on the first
request and on every redirect (redirects are followed here, one by one, for that reason).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.address_policy import AddressPolicy, CheckedResolver, RefusedAddress
from bot.errors import described
from bot.flows import feed_reads
from bot.flows.busy_feed import FeedError, FeedTooLarge, feed_address
from bot.limits import BusyFeedLimit
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

__all__ = [
    "AddressPolicy",
    "CheckedResolver",
    "FeedFetcher",
    "FeedReads",
    "RefusedAddress",
    "feed_address",
]

CHUNK_BYTES = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

REFUSED = (
    "the calendar address points to a private, local or cloud-internal network address, "
    "which hirebot does not read: paste the public address your calendar app gives "
    "(Google: Settings → your calendar → Secret address in iCal format)"
)


class FeedFetcher:
    """Reads calendar feeds through one guarded HTTP client; ``close`` when done."""

    def __init__(self, policy: AddressPolicy, *, resolver: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._resolver = resolver
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(
                resolver=CheckedResolver(self.policy, self._resolver),
                # Every connection resolves afresh through the check: nothing cached from
                # an earlier, different answer is reused.
                use_dns_cache=False,
            )
            # trust_env stays off: a proxy would do the resolving, past the check.
            self._http = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def fetch(self, pasted: str) -> bytes:
        """The feed's bytes, or FeedError saying why not (without the address)."""
        address = feed_address(pasted)
        try:
            async with asyncio.timeout(BusyFeedLimit.FETCH_SECONDS):
                for _ in range(BusyFeedLimit.REDIRECTS + 1):
                    self._check_literal(address)
                    async with self._client().get(address, allow_redirects=False) as response:
                        if response.status in _REDIRECTS and "Location" in response.headers:
                            address = _next_address(address, response.headers["Location"])
                            continue
                        return await _body(response)
                raise FeedError("the calendar address redirects too many times")
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, RefusedAddress):
                raise FeedError(REFUSED) from None
            raise _unreadable(error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _unreadable(error) from None

    def _check_literal(self, address: str) -> None:
        host = urlsplit(address).hostname or ""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return  # a name: CheckedResolver decides on what it resolves to
        if not self.policy.allows(ip):
            raise FeedError(REFUSED)


def _next_address(current: str, location: str) -> str:
    target = urljoin(current, location)
    if urlsplit(target).scheme.lower() not in {"http", "https"}:
        raise FeedError("the calendar address redirects to something that is not a web address")
    return target


async def _body(response: aiohttp.ClientResponse) -> bytes:
    if response.status != 200:
        raise FeedError(f"the calendar address answered HTTP {response.status}")
    if (response.content_length or 0) > BusyFeedLimit.FEED_BYTES:
        raise FeedTooLarge(too_large())
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        body += chunk
        if len(body) > BusyFeedLimit.FEED_BYTES:
            raise FeedTooLarge(too_large())
    return bytes(body)


def _unreadable(error: Exception) -> FeedError:
    # The exception's text can carry the address: keep only its kind.
    return FeedError(f"the calendar address could not be read ({type(error).__name__})")


def too_large() -> str:
    return f"the calendar feed is over {BusyFeedLimit.FEED_BYTES // (1024 * 1024)} MB"


class FeedReads:
    """Interviewers' feeds read and stored: those due on each tick, and one at once after
    its owner saved a new address. Fetching happens between two transactions, never in one
    (bot.flows.feed_reads)."""

    def __init__(self, uow: UnitOfWork, fetcher: FeedFetcher) -> None:
        self._uow = uow
        self._fetcher = fetcher

    @property
    def policy(self) -> AddressPolicy:
        """The addresses hirebot may reach (HIREBOT_CALENDAR_PRIVATE_HOSTS): webhooks too."""
        return self._fetcher.policy

    async def read_due(self) -> int:
        """Read the feeds due now (at most BusyFeedLimit.REFRESH_PER_TICK); how many."""
        due = await self._uow.run(
            lambda s, now: feed_reads.claim_due(s, now, BusyFeedLimit.REFRESH_PER_TICK)
        )
        at_once = asyncio.Semaphore(BusyFeedLimit.REFRESH_AT_ONCE)

        async def one(read: feed_reads.FeedToRead) -> None:
            async with at_once:
                await self._read(read)

        await asyncio.gather(*(one(read) for read in due))
        return len(due)

    async def read_now(self, interviewer: str) -> None:
        read = await self._uow.run(lambda s, now: feed_reads.claim(s, interviewer, now))
        if read is not None:
            await self._read(read)

    async def _read(self, read: feed_reads.FeedToRead) -> None:
        fetched: bytes | FeedError
        try:
            fetched = await self._fetcher.fetch(read.address)
        except FeedError as error:
            fetched = error
        try:
            await self._uow.run(lambda s, now: feed_reads.record(s, read, fetched, now))
        except Exception as error:
            # One interviewer's bad row must not stop the others' reads; tried again later.
            log.error("storing a calendar feed read failed: %s", described(error))

    async def close(self) -> None:
        await self._fetcher.close()
