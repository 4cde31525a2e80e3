"""The Bolt app: ``/hire``, vote buttons. Every listener acks first; work happens after.

Slash commands answer in their ack (fast database work only, well inside Slack's 3 s).
Button presses ack at once and record the vote afterwards; the card update goes through the
outbox. Re-delivered actions are recognised by their ``action_ts``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import HirebotError
from bot.flows import review
from bot.flows.review import VoteChoice
from bot.services import Services
from bot.slack.blocks import VOTE_ACTION_PREFIX
from bot.slack.hire import HireCommand, HireCommands

log = logging.getLogger(__name__)
SOURCE = "slack"


def build_app(
    client: AsyncWebClient,
    services: Services,
    *,
    signing_secret: str | None,
    telegram_username: Callable[[], str],
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        # Socket Mode requests are not signed; HTTP mode requests always are.
        request_verification_enabled=signing_secret is not None,
    )
    commands = HireCommands(services, telegram_username)

    @app.command("/hire")
    async def hire(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = await commands.answer(
            HireCommand(user=command["user_id"], text=command.get("text", ""))
        )
        await ack(text=reply, response_type="ephemeral")

    @app.action(re.compile(f"^{VOTE_ACTION_PREFIX}"))
    async def vote(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        choice = VoteChoice(action["action_id"].removeprefix(VOTE_ACTION_PREFIX))
        interview_id = int(action["value"])
        reviewer = body["user"]["id"]
        key = f"action:{reviewer}:{action['action_ts']}"
        try:
            await services.handle_once(
                SOURCE,
                key,
                lambda s, now: review.vote(
                    s, interview_id=interview_id, reviewer=reviewer, choice=choice, now=now
                ),
            )
        except HirebotError as err:
            log.info("vote refused: %s", err)

    @app.event("message")
    async def thread_message(ack: AsyncAck) -> None:
        # Thread comments are stored by a later issue; acknowledge so Slack does not retry.
        await ack()

    return app
