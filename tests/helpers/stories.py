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


async def start_bot_process(
    world: World, log: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """``hirebot run`` as its own process (to be killed), logging to ``log``, ``env`` over
    the world's settings; returns once it is connected to Slack."""
    connected = world.slack.connected_sockets()
    process = await _hirebot(world, log, env, "run")
    await eventually(
        lambda: world.slack.connected_sockets() > connected, seconds=60, what="the bot"
    )
    return process


async def start_worker_process(
    world: World, log: Path, port: int, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """``hirebot worker`` as its own process, its health on ``port``; returns once it runs."""
    from bot.worker import check

    process = await _hirebot(world, log, env, "worker", "--health-port", str(port))
    await eventually(
        lambda: check("127.0.0.1", port)[0] or process.returncode is not None,
        seconds=60,
        what="the worker",
    )
    assert process.returncode is None, f"the worker stopped: see {log}"
    return process


async def _hirebot(
    world: World, log: Path, env: dict[str, str] | None, *args: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={**os.environ, **world.environment(), **(env or {})},
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )
