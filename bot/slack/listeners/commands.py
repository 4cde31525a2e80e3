"""``/hire``: the recruiter guard, then the answer (in the ack, after it, or as a form).

Slash commands answer in their ack (fast database work only); a report that reads many rows
is acked at once and answered through the response_url (see ``bot.slack.hire``).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.hire import AnswerAfterAck, HireCommand, HireCommands
from bot.slack.listeners.requests import Next, bind

log = logging.getLogger(__name__)


def register(app: AsyncApp, commands: HireCommands) -> None:
    guard = bind(hire_guard, commands=commands)
    app.command("/hire", middleware=[guard])(bind(hire, commands=commands))


async def hire_guard(
    ack: AsyncAck, command: dict[str, Any], next: Next, *, commands: HireCommands
) -> BoltResponse | None:
    """Refuse, with an ephemeral sentence, what the person may not run; Bolt then skips it."""
    refusal = await commands.refusal(HireCommand.from_payload(command))
    if refusal is not None:
        return await ack(text=refusal, response_type="ephemeral")
    await next()
    return None


async def hire(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    commands: HireCommands,
) -> None:
    parsed = HireCommand.from_payload(command)
    reply = await commands.answer(parsed)
    if isinstance(reply, str):
        await ack(text=reply, response_type="ephemeral")
        return
    if isinstance(reply, AnswerAfterAck):
        await ack()
        await respond(text=await commands.finish(reply), response_type="ephemeral")
        return
    await ack()
    try:
        await client.views_open(trigger_id=parsed.trigger_id, view=reply.view)
    except SlackApiError as err:
        log.warning("views.open failed: %s", err.response.get("error"))
        await respond(
            text="I couldn't open the form (Slack said "
            f"`{err.response.get('error')}`). Please run the command again.",
            response_type="ephemeral",
        )
