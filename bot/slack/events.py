"""Slack events about the workspace itself (not about a candidate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.flows import undelivered
from bot.services import Services

SOURCE = "slack"


def register(app: AsyncApp, services: Services) -> None:
    app.event("member_joined_channel")(_bot_joined_channel(services))


def _bot_joined_channel(
    services: Services,
) -> Callable[[dict[str, Any], dict[str, Any], AsyncBoltContext], Awaitable[None]]:
    async def bot_joined_channel(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """hirebot was invited to a channel: what waited for it is delivered now.

        Slack sends ``member_joined_channel`` for every member who joins a channel the bot
        is in; only the bot's own arrival matters here.
        """
        if event.get("user") != context.bot_user_id:
            return
        channel = str(event.get("channel") or "")
        await services.handle_once(
            SOURCE,
            f"event:{body.get('event_id')}",
            lambda s, now: undelivered.channel_available(s, channel=channel, now=now),
        )

    return bot_joined_channel
