"""Fetching an interviewer's private iCal feed over HTTP(S) (issue 10).

The address is a secret (anyone holding it reads the whole calendar), so it is never logged
and never put in an error message. What comes back is untrusted: it is read in chunks and
dropped past BusyFeedLimit.FEED_BYTES, whatever Content-Length says, and the whole fetch has
a deadline. Every failure is a FeedError the caller can hand to bot.flows.busy_feed.refreshed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.flows.busy_feed import FeedError, FeedTooLarge
from bot.limits import BusyFeedLimit

CHUNK_BYTES = 64 * 1024


def feed_address(pasted: str) -> str:
    """The address to fetch: Apple and Outlook hand out ``webcal://`` links, which are
    HTTPS under another name. Anything but http(s) is refused (no file://, no ftp://)."""
    parts = urlsplit(pasted.strip())
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    if scheme not in {"http", "https"} or not parts.hostname:
        raise FeedError("a calendar address starts with https:// or webcal://")
    return urlunsplit((scheme, *parts[1:]))


async def fetch_feed(http: aiohttp.ClientSession, pasted: str) -> bytes:
    """The feed's bytes, or FeedError saying why not (without the address)."""
    address = feed_address(pasted)
    timeout = aiohttp.ClientTimeout(total=BusyFeedLimit.FETCH_SECONDS)
    try:
        async with http.get(address, timeout=timeout, max_redirects=5) as response:
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
    except (aiohttp.ClientError, TimeoutError) as error:
        # The exception's text can carry the address: keep only its kind.
        raise FeedError(
            f"the calendar address could not be read ({type(error).__name__})"
        ) from None


def too_large() -> str:
    return f"the calendar feed is over {BusyFeedLimit.FEED_BYTES // (1024 * 1024)} MB"
