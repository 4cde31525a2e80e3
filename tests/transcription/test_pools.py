"""Where media work runs: decoding in processes of its own (a candidate's recording apart
from Slack's copies), writing to the store in threads."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from bot.errors import MediaError
from bot.limits import MediaLimit
from bot.transcription.pool import run_intake, run_media, run_storing
from tests.helpers.processes import alive


def _where() -> tuple[int, int]:
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _thread_name() -> str:
    return threading.current_thread().name


def _die() -> None:
    os._exit(1)  # as a decoder that crashes on a hostile file


def _slowly(value: int) -> int:
    time.sleep(0.5)
    return value


async def test_decoding_runs_in_low_priority_processes_of_its_own_kind() -> None:
    intake_pid, intake_nice = await run_intake(_where)
    media_pid, media_nice = await run_media(_where)
    assert os.getpid() not in (intake_pid, media_pid) and intake_pid != media_pid
    assert intake_nice == MediaLimit.INTAKE_NICENESS
    assert media_nice == MediaLimit.NICENESS
    assert (await run_storing(_thread_name)).startswith("store")


async def test_a_worker_that_dies_fails_only_its_own_file() -> None:
    # Another file is being measured when a hostile one kills the worker: that one is
    # refused as unreadable, the other is measured again and comes back.
    other = asyncio.ensure_future(run_intake(_slowly, 7))
    await asyncio.sleep(0.1)
    with pytest.raises(MediaError):
        await run_intake(_die)
    assert await other == 7
    assert await run_intake(_slowly, 8) == 8  # and the next file finds working processes


_BOT = """
import asyncio, os, sys
from bot.transcription.pool import run_intake, run_media

async def main():
    helpers = {await run_intake(os.getpid), await run_media(os.getpid)}
    print(*helpers, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_media_processes_do_not_outlive_a_bot_killed_with_minus_9() -> None:
    bot = subprocess.Popen([sys.executable, "-c", _BOT], stdout=subprocess.PIPE, text=True)
    assert bot.stdout is not None
    helpers = [int(pid) for pid in bot.stdout.readline().split()]
    assert len(helpers) == 2 and all(alive(pid) for pid in helpers)
    bot.kill()
    bot.wait()
    deadline = time.monotonic() + 5 * MediaLimit.ORPHAN_CHECK_SECONDS + 5
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in helpers)
