"""The Bolt app: built here, its listeners registered from ``bot.slack.listeners``.

The request path: Bolt's built-ins (signature check in HTTP mode, self-event filter) → the
recruiter guard (listener middleware: refuses with an ephemeral sentence, nothing runs) →
the listener. Every listener acks within Slack's 3 s: slash commands answer in their ack
(fast database work only); buttons ack first and work after; form submissions are saved,
then acked (or acked with the errors to show). Thread replies are stored in listener
middleware, before Bolt's automatic ack of events. Re-deliveries are recognised by
``action_ts``, the view id and ``event_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.address_policy import AddressPolicy
from bot.calendar_feed import FeedReads
from bot.errors import described
from bot.slack import listeners
from bot.slack.hire import HireCommands
from bot.slack.membership import ChannelMembers, Viewers
from bot.slack.profiles import SlackProfiles
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def build_app(
    client: AsyncWebClient,
    uow: UnitOfWork,
    *,
    signing_secret: str | None,
    telegram_username: Callable[[], str],
    feeds: FeedReads | None = None,
    share_address: Callable[[str], str] = lambda token: f"/share/{token}",
) -> AsyncApp:
    app = AsyncApp(
        # Named, Bolt does not walk the caller's stack (inspect.stack reads every frame's
        # source file: about 0.1 s an app, more under a deep stack such as a test's).
        name="hirebot",
        client=client,
        signing_secret=signing_secret or "",
        # Socket Mode requests are not signed; HTTP mode requests always are.
        request_verification_enabled=signing_secret is not None,
    )
    app.error(failed)
    members = ChannelMembers(client)
    viewers = Viewers(uow, members)
    profiles = SlackProfiles(client)
    addresses = feeds.policy if feeds is not None else AddressPolicy()  # webhooks' guard too
    hire_commands = HireCommands(uow, telegram_username, viewers, profiles, addresses)
    listeners.register(
        app,
        uow,
        hire_commands=hire_commands,
        viewers=viewers,
        profiles=profiles,
        feeds=feeds,
        members=members,
        share_address=share_address,
    )
    return app


async def failed(error: Exception, body: dict[str, Any]) -> None:
    # Bolt's own handler logs str(error): SQL parameters, a payload, a person's words.
    log.error("slack %s failed: %s", _request_ids(body), described(error))


def _request_ids(body: dict[str, Any]) -> str:
    """What a failed request was, by kind and ids only (never its text)."""
    event = body.get("event") or {}
    view = body.get("view") or {}
    actions = body.get("actions") or [{}]
    parts = [
        str(body.get("type") or body.get("command") or "request"),
        str(event.get("type") or ""),
        str(body.get("event_id") or ""),
        str(actions[0].get("action_id") or ""),
        str(view.get("callback_id") or ""),
    ]
    return " ".join(p for p in parts if p)
