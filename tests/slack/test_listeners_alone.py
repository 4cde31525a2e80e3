"""One listener module, registered alone on a bare Bolt app, against the Slack emulator.

No runtime, no Telegram, no outbox worker: the ``actions`` module with a database and the
real Bolt and SDK clients is enough to see what a voter is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows.buttons import Vote
from bot.flows.review import VoteChoice
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.world import eventually
from bot.slack.listeners import actions
from bot.unit_of_work import opened
from storage import migrate

CHANNEL = "C0GENERAL"
STALE = "That button is out of date or not one of mine: nothing changed."


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[SlackSandbox, AsyncApp]]:
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    with opened(url, tmp_path / "media") as uow:
        async with SlackSandbox() as sandbox:
            bolt = AsyncApp(
                client=AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url),
                request_verification_enabled=False,
            )
            actions.register(bolt, uow)
            handler = AsyncSocketModeHandler(bolt, sandbox.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            try:
                yield sandbox, bolt
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]


async def test_the_vote_listener_alone_tells_the_voter_why_a_vote_did_not_count(
    app: tuple[SlackSandbox, AsyncApp],
) -> None:
    sandbox, bolt = app
    # A card for an interview the database does not hold (erased, or another install's).
    vote = Vote(VoteChoice.YES, 42)
    buttons = [
        {
            "type": "button",
            "action_id": action_id,
            "value": value,
            "text": {"type": "plain_text", "text": "👍"},
        }
        for action_id, value in [(vote.action, vote.pack()), ("vote_no", "vote_no@x")]
    ]
    await bolt.client.chat_postMessage(
        channel=CHANNEL, text="card", blocks=[{"type": "actions", "elements": buttons}]
    )
    tom = sandbox.teammate("U0TOM")
    await eventually(lambda: sandbox.connected_sockets() == 1, what="Socket Mode connected")
    assert await tom.click("vote_yes", channel=CHANNEL) == 200
    await asyncio.wait_for(sandbox.wait_for_ephemerals("U0TOM", 0), timeout=20)
    assert await tom.click("vote_no", channel=CHANNEL) == 200  # a forged value
    await asyncio.wait_for(sandbox.wait_for_ephemerals("U0TOM", 1), timeout=20)
    told = [(e["text"], e["channel"], e["via"]) for e in sandbox.ephemerals("U0TOM")]
    assert told == [
        ("That interview no longer exists.", CHANNEL, "api"),
        (STALE, CHANNEL, "api"),
    ]
