"""Helpers for the sharing stories: a finished interview, shared through the real Share form
on the card (bot.sandbox.share_link, which ``hirebot demo`` uses too)."""

from __future__ import annotations

from bot.sandbox.share_link import make_share_link as make_link
from bot.sandbox.share_link import share_form
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import World, eventually
from tests.helpers.slack import finish_interview
from tests.helpers.stories import invite

__all__ = ["answered", "make_link", "share_form", "thread_text"]


async def answered(world: World, name: str = "Jane Doe") -> SandboxCandidate:
    """``name`` invited and both questions answered by voice."""
    jane = world.telegram.candidate(700_301, "Jane", "Doe")
    await finish_interview(world, jane, await invite(world, name))
    return jane


async def thread_text(world: World, parent_ts: str, channel: str, needle: str) -> str:
    """The text of the first reply under the card that contains ``needle`` (waiting for it)."""
    return await eventually(
        lambda: next(
            (m.text for m in world.slack.thread(channel, parent_ts) if needle in m.text), None
        ),
        what=f"a reply saying {needle!r}",
    )
