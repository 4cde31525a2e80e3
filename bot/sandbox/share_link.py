"""A recruiter makes a share link through the card's real Share form, as in Slack (used by
``hirebot demo`` and the tests)."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.slack_api import SlackMessage
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, World, eventually

FORM = "share_candidate"
# The form shows the new link once, in a code block.
LINK = re.compile(r"```(https?://[^`]+/share/[A-Za-z0-9_-]{43})```")


async def share_form(world: World, user: str = RECRUITER) -> dict[str, Any]:
    """``user`` presses Share on the first card; the form it opened."""
    parent: SlackMessage = await eventually(
        lambda: next(iter(world.slack.messages(REVIEW_CHANNEL)), None), what="the card"
    )

    def opened() -> list[dict[str, Any]]:
        return [v for v in world.slack.views if v.get("callback_id") == FORM]

    before = len(opened())
    await world.slack.teammate(user).click("share_open", message=parent)
    return (await eventually(lambda: opened()[before:], what="the Share form"))[0]


async def make_share_link(world: World, holder: str, **values: Any) -> str:
    """The recruiter fills in who a link is for (and ``values``, other fields) and submits;
    the link's address, read from the form Slack then shows them (the only place it is)."""
    form = await share_form(world)
    state = {"holder": {"value": {"type": "plain_text_input", "value": holder}}, **values}
    status = await world.slack.teammate(RECRUITER).submit_view(form, state)
    ack = world.slack.view_acks[-1]
    if status != 200 or ack.get("response_action") != "update":
        raise AssertionError(f"the Share form was refused: {ack}")
    found = LINK.search(ack["view"]["blocks"][0]["text"]["text"])
    if found is None:
        raise AssertionError("no link in the form")
    return found.group(1)
