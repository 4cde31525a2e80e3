"""Helpers for stories that run through the whole world."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import INVITE_LINK, RECRUITER, REVIEW_CHANNEL, World, eventually


async def invite(world: World, name: str = "Jane Doe") -> str:
    """The recruiter invites ``name``; returns the invite token from the deep link."""
    reply = await world.slack.teammate(RECRUITER).slash(
        "/hire", f"invite backend-engineer {name}", REVIEW_CHANNEL
    )
    link = INVITE_LINK.search(reply.text or "")
    assert link is not None, reply.text
    return link.group(2)


async def start_answering(
    world: World, candidate: SandboxCandidate, token: str, total: int = 2
) -> None:
    """The candidate opens the link and agrees; question 1's intro is waiting."""
    await candidate.send_command("/start", token)
    await candidate.press("I agree", await candidate.wait_for_message("Do you agree?"))
    await candidate.wait_for_message(f"Question 1 of {total}.")


async def start_bot_process(world: World, log: Path) -> asyncio.subprocess.Process:
    """``hirebot run`` as its own process (to be killed), logging to ``log``; returns once
    it is connected to Slack."""
    env = {**os.environ, **world.environment()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )
    await eventually(lambda: world.slack.connected_sockets() > 0, seconds=60, what="the bot")
    return process
