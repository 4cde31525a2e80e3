"""hirebot run and hirebot worker as processes of their own against a sandbox world.

A bot that is killed (``kill -9``) or measured (its own peak RSS, its own CPU) must be a real
process, as in production. The tests, ``hirebot bench slack`` and ``hirebot bench load`` all
start it here, the same way.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import ClientError, ClientSession, ClientTimeout

if TYPE_CHECKING:
    from bot.sandbox.world import World

START_SECONDS = 90.0  # importing the bot and loading Whisper on a busy 2-core machine


async def start_bot_process(
    world: World,
    log: Path,
    environment: Mapping[str, str] | None = None,
    *,
    http_port: int | None = None,
    command: tuple[str, ...] = ("run",),
    ready: bool = True,
) -> asyncio.subprocess.Process:
    """``hirebot <command>`` (default ``run``) as its own process with the world's settings
    (``environment`` over them), logging to ``log``.

    Its HTTP port is ``http_port``, else ``HIREBOT_HTTP_PORT`` in ``environment``, else the
    world's, else a free one. With ``ready``, returns once ``/health`` there answers 200
    (connected to Slack and Telegram; a worker: running, the database answering), as a load
    balancer or compose waits for it. In Slack HTTP mode the sandbox then sends Slack's
    requests to it.
    """
    from bot.sandbox.world import free_port

    env = {**os.environ, **world.environment(), **(environment or {})}
    given = (environment or {}).get("HIREBOT_HTTP_PORT")
    port = http_port or (int(given) if given else 0) or world.http_port or free_port()
    env["HIREBOT_HTTP_PORT"] = str(port)
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *command,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    if world.slack_mode == "http" and command == ("run",):
        world.slack.http_target = f"http://127.0.0.1:{port}/slack/events"
    if ready:
        await wait_healthy(process, port, log)
    return process


async def start_worker_process(
    world: World, log: Path, port: int, environment: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """``hirebot worker`` as its own process, its ``/health`` on ``port``; returns once it
    runs (its database answering)."""
    return await start_bot_process(world, log, environment, http_port=port, command=("worker",))


async def wait_healthy(
    process: asyncio.subprocess.Process, port: int, log: Path, seconds: float = START_SECONDS
) -> None:
    """Until ``GET /health`` on ``port`` answers 200; fails at once if the process exits."""
    deadline = asyncio.get_running_loop().time() + seconds
    async with ClientSession(timeout=ClientTimeout(total=5)) as http:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the bot process exited ({process.returncode}):\n{_tail(log)}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        return
            except (ClientError, TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the bot process was not healthy within {seconds:.0f} s")
            await asyncio.sleep(0.2)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]
