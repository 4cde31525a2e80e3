"""Signed webhooks (issue 12): recruiters add, list and remove endpoints (`/hire webhooks`).

What an endpoint receives and how it is signed, retried and logged: bot.flows.webhook_events
and bot.integrations.webhooks. An endpoint's address is checked against the same guard as
calendar feeds (HIREBOT_CALENDAR_PRIVATE_HOSTS); adding and removing one is in the audit trail.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlmodel import Session, col, delete, select

from bot.errors import InvalidRequest, NotFound
from bot.flows import audit, escaping, outgoing, webhook_events
from bot.flows.moments import format_deadline
from bot.flows.webhook_events import EVENTS
from bot.limits import WebhookLimit
from storage import outbox
from storage.models import WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from bot.address_policy import AddressPolicy

_FAMILIES = {"booking.*": ("booking.booked", "booking.moved", "booking.cancelled")}
# The events as a recruiter names them (the booking ones as their family).
NAMED = ", ".join(f"`{e}`" for e in (*EVENTS[:6], "booking.*", EVENTS[-1]))


@dataclass(frozen=True)
class Added:
    endpoint_id: int
    secret: str
    events: tuple[str, ...]


def events_named(words: list[str]) -> tuple[str, ...]:
    """The events ``words`` subscribe to, in our order; InvalidRequest naming the known ones."""
    chosen: set[str] = set()
    for word in words:
        name = word.strip().lower().rstrip(",")
        if name in EVENTS:
            chosen.add(name)
        elif name in _FAMILIES:
            chosen.update(_FAMILIES[name])
        else:
            raise InvalidRequest(f"'{escaping.mrkdwn(word)}' is not an event. Events: {NAMED}.")
    if not chosen:
        raise InvalidRequest("Name at least one event, e.g. `interview.completed`.")
    return tuple(e for e in EVENTS if e in chosen)


def checked_url(url: str, policy: AddressPolicy) -> str:
    """``url`` if an endpoint may have it; InvalidRequest saying why not.

    HTTPS only: bodies carry candidates' names. Plain HTTP only where private hosts are
    allowed (a receiver on the company network, the sandbox). A host written as an IP
    address is checked here; a name is checked each time it is resolved, when sending.
    """
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):  # Slack's link markup: <url> or <url|label>
        url = url[1:-1].split("|", 1)[0]
    if len(url) > WebhookLimit.URL_CHARS:
        raise InvalidRequest(f"That address is over {WebhookLimit.URL_CHARS} characters.")
    parts = urlsplit(url)
    schemes = {"https", "http"} if policy.allow_private else {"https"}
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise InvalidRequest("The webhook address must be an `https://` address.")
    if parts.username or parts.password:
        raise InvalidRequest("Leave credentials out of the address: each delivery is signed.")
    try:
        ip = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    if not policy.allows(ip):
        raise InvalidRequest(REFUSED)
    return url


REFUSED = (  # the guard's refusal, in a recruiter's words
    "That address points to a private, local or cloud-internal network address, which "
    "hirebot does not send to: give your receiver's public address."
)


def add(session: Session, *, url: str, events: tuple[str, ...], by: str, now: datetime) -> Added:
    """A new endpoint (``url`` already checked) with a fresh secret, shown to ``by`` once."""
    count = len(session.exec(select(WebhookEndpoint.id)).all())
    if count >= WebhookLimit.ENDPOINTS:
        raise InvalidRequest(
            f"There are {count} webhooks already: remove one first (`/hire webhooks`)."
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=url, secret=secret, events=list(events), created_by=by, created_at=now
    )
    session.add(endpoint)
    session.flush()
    assert endpoint.id is not None
    audit.record(
        session, actor=by, action=audit.Action.WEBHOOK_ADDED, now=now, endpoint=endpoint.id
    )
    return Added(endpoint.id, secret, events)


def remove(session: Session, endpoint_id: int, *, by: str, now: datetime) -> str:
    """The endpoint, its undelivered events and its log, gone. A delivery in flight finds it
    gone before its next attempt and stops there."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"There is no webhook #{endpoint_id}: see `/hire webhooks`.")
    outbox.drop_pending(
        session, ordering_key=outgoing.webhook_key(endpoint_id), kind=outgoing.Kind.WEBHOOK
    )
    session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id))
    session.delete(endpoint)
    audit.record(
        session, actor=by, action=audit.Action.WEBHOOK_REMOVED, now=now, endpoint=endpoint_id
    )
    return f"Removed webhook #{endpoint_id}: it gets nothing more, retries included."


def send_test(session: Session, endpoint_id: int, *, by: str, now: datetime) -> str:
    """`/hire webhooks test`: a ``webhook.test`` event to one endpoint, to try a receiver."""
    if session.get(WebhookEndpoint, endpoint_id) is None:
        raise NotFound(f"There is no webhook #{endpoint_id}: see `/hire webhooks`.")
    event_id = webhook_events.queue_test(session, endpoint_id, by=by, now=now)
    return (
        f"Sent a `{webhook_events.TEST}` event (`{event_id}`) to webhook #{endpoint_id}: "
        "`/hire webhooks` shows how it went."
    )


def listing(session: Session) -> str:
    """`/hire webhooks`: every endpoint with its events and its latest deliveries."""
    endpoints = session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))).all()
    if not endpoints:
        return (
            "No webhooks yet. Add one: `/hire webhooks add <https://…> <event…>` "
            f"(events: {NAMED})."
        )
    lines: list[str] = []
    for endpoint in endpoints:
        lines.append(
            f"*#{endpoint.id}* {escaping.mrkdwn(endpoint.url)}: {', '.join(endpoint.events)} "
            f"(added by <@{endpoint.created_by}>, {format_deadline(endpoint.created_at)})"
        )
        recent = session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(WebhookLimit.RECENT_DELIVERIES)
        ).all()
        lines += [f"   • {_log_line(d)}" for d in recent] or ["   • no deliveries yet"]
    return "\n".join(lines)


def _log_line(row: WebhookDelivery) -> str:
    answer = (
        f"HTTP {row.last_status_code}"
        if row.last_status_code is not None
        else (row.last_error or "not tried yet")
    )
    tries = f"{row.attempts} attempt{'s' if row.attempts != 1 else ''}"
    when = format_deadline(row.last_attempt_at or row.created_at)
    return f"`{row.event_id}` {row.event_type}: {row.status} ({answer}, {tries}), {when}"
