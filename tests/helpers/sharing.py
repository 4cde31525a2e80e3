"""Helpers for the sharing stories: a finished interview shared by a link, through the real
Share form on the card."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import RECRUITER, World, eventually
from tests.helpers.slack import card, finish_interview, opened_view, text_value, users_value
from tests.helpers.stories import invite

LINK = re.compile(r"```(http://[^`]+/share/[A-Za-z0-9_-]{43})```")


async def answered(world: World, name: str = "Jane Doe") -> SandboxCandidate:
    """``name`` invited and both questions answered by voice."""
    jane = world.telegram.candidate(700_301, "Jane", "Doe")
    await finish_interview(world, jane, await invite(world, name))
    return jane


async def share_form(world: World, user: str = RECRUITER) -> dict[str, Any]:
    """``user`` presses Share on the card; the form it opened."""
    parent = await card(world)
    before = len([v for v in world.slack.views if v.get("callback_id") == "share_candidate"])
    await world.slack.teammate(user).click("share_open", message=parent)
    return await opened_view(world, "share_candidate", before + 1)


async def make_link(world: World, holder: str = "Dana Lee", **more: Any) -> str:
    """The recruiter makes a link for ``holder`` in the Share form; its address, read from
    the form Slack now shows them (the only place it appears)."""
    form = await share_form(world)
    values = {"holder": text_value(holder), **more}
    assert await world.slack.teammate(RECRUITER).submit_view(form, values) == 200
    ack = world.slack.view_acks[-1]
    assert ack.get("response_action") == "update", ack
    found = LINK.search(ack["view"]["blocks"][0]["text"]["text"])
    assert found is not None
    return found.group(1)


def people(*users: str) -> dict[str, Any]:
    return users_value(*users)


async def thread_text(world: World, parent_ts: str, channel: str, needle: str) -> str:
    """The text of the first reply under the card that contains ``needle`` (waiting for it)."""
    return await eventually(
        lambda: next(
            (m.text for m in world.slack.thread(channel, parent_ts) if needle in m.text), None
        ),
        what=f"a reply saying {needle!r}",
    )
