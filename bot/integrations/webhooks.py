"""Sending signed webhooks: the signature, the guarded HTTP POST, and one outbox row's attempt.

Each attempt is signed afresh, so a receiver can refuse old deliveries (a replay) by their
timestamp::

    Hirebot-Signature: t=1764158400,v1=<hex HMAC-SHA256(secret, "1764158400." + body)>
    Hirebot-Event-Id: evt_…   (the same on every retry: receivers dedupe on it)
    Hirebot-Event: interview.completed

The endpoint's address was pasted by a person: it is resolved through the same guard as the
calendar feeds (bot.address_policy), never followed through a redirect, and never logged.
What the receiver answers is not kept either: its status code is, in the delivery log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.address_policy import AddressPolicy, CheckedResolver, RefusedAddress
from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.flows import outgoing, webhook_events
from bot.limits import WebhookLimit
from bot.unit_of_work import UnitOfWork

SIGNATURE_HEADER = "Hirebot-Signature"
EVENT_ID_HEADER = "Hirebot-Event-Id"
EVENT_HEADER = "Hirebot-Event"
USER_AGENT = "hirebot-webhooks/1"


def signature(secret: str, timestamp: int, body: str) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the endpoint's secret."""
    signed = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, *, event_id: str, event_type: str, body: str, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: event_id,
        EVENT_HEADER: event_type,
        SIGNATURE_HEADER: f"t={timestamp},v1={signature(secret, timestamp, body)}",
    }


@dataclass(frozen=True)
class Answered:
    status: int
    retry_after: float | None = None  # a 429's Retry-After, in seconds


class Unanswered(Exception):
    """No HTTP answer: a timeout, a refused connection, an address the guard refuses. The
    text is short and names neither the address nor anything it said."""


class WebhookSender:
    """POSTs to endpoints through the address guard; a fresh connection each time."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: AbstractResolver | None = None,
        timeout: float = WebhookLimit.TIMEOUT_SECONDS,
    ) -> None:
        self.policy = policy
        self._resolver = resolver
        self._timeout = timeout

    async def post(self, url: str, body: str, headers: dict[str, str]) -> Answered:
        host = urlsplit(url).hostname or ""
        try:
            if not self.policy.allows(ipaddress.ip_address(host)):
                raise Unanswered("refused: a private or local address")
        except ValueError:
            pass  # a name: CheckedResolver decides on what it resolves to
        connector = aiohttp.TCPConnector(
            resolver=CheckedResolver(self.policy, self._resolver), use_dns_cache=False
        )
        try:
            # trust_env off: a proxy would resolve the name, past the guard.
            async with (
                asyncio.timeout(self._timeout),
                aiohttp.ClientSession(connector=connector, trust_env=False) as http,
                http.post(url, data=body.encode(), headers=headers, allow_redirects=False) as got,
            ):
                # Read (a bounded part of) the answer so the request completes; keep none.
                await got.content.read(WebhookLimit.RESPONSE_BYTES)
                return Answered(got.status, _retry_after(got.headers.get("Retry-After")))
        except TimeoutError:
            raise Unanswered("timeout") from None
        except aiohttp.ClientConnectorError as err:
            if isinstance(err.os_error, RefusedAddress):
                raise Unanswered("refused: a private or local address") from None
            raise Unanswered("connection failed") from None
        except aiohttp.ClientError as err:
            raise Unanswered(f"connection failed ({type(err).__name__})") from None


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110: a number of seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class WebhookPoster:
    """Delivers one ``outgoing.Webhook`` row: the outbox's handler for that kind."""

    def __init__(self, uow: UnitOfWork, sender: WebhookSender) -> None:
        self._uow = uow
        self._sender = sender

    async def deliver(self, message: outgoing.Webhook) -> None:
        endpoint = message.endpoint_id
        target = await self._uow.run(lambda s, _now: webhook_events.target(s, endpoint))
        if target is None:
            raise DeliveryRefused("the webhook was removed")
        timestamp = int(self._uow.now().timestamp())
        headers = signed_headers(
            target.secret,
            event_id=message.event_id,
            event_type=message.event_type,
            body=message.body,
            timestamp=timestamp,
        )
        status: int | None = None
        retry_after: float | None = None
        error: str | None = None
        try:
            answered = await self._sender.post(target.url, message.body, headers)
            status, retry_after = answered.status, answered.retry_after
        except Unanswered as err:
            error = str(err)
        outcome = await self._uow.run(
            lambda s, now: webhook_events.attempted(
                s,
                endpoint_id=endpoint,
                event_id=message.event_id,
                status_code=status,
                error=error,
                retry_after=retry_after,
                now=now,
            )
        )
        if outcome.delivered:
            return
        if outcome.retry_in is not None:
            raise DeliveryDeferred(outcome.reason, retry_after=outcome.retry_in)
        raise DeliveryRefused(outcome.reason)


def poster(uow: UnitOfWork, policy: AddressPolicy) -> WebhookPoster:
    """The outbox's webhook handler, reaching only the addresses ``policy`` allows."""
    return WebhookPoster(uow, WebhookSender(policy))
