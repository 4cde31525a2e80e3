"""Where media work runs: a few low-priority threads of its own, never the event loop's.

Probing an upload and converting a recording for Slack are CPU work on untrusted files. They
run here, not in asyncio's default executor nor the database's: six large videos queue
behind MediaLimit.WORKERS threads instead of delaying every transaction, and the threads run
at a lower priority, so the event loop still acks Slack within milliseconds while they work.
Each job bounds itself (a time budget, a duration ceiling), since a thread cannot be killed.

Two pools: a candidate's recording is measured and stored (``run_intake``) before they hear
"got it", while converting a copy for Slack (``run_media``) can take many seconds a video.
Sharing threads put every candidate's ack behind the conversions already queued (under
``hirebot bench load`` with 40 candidates, acks waited for seconds); apart, a conversion
never delays an ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.limits import MediaLimit

P = ParamSpec("P")
T = TypeVar("T")

_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()
_CONVERT = "media"
_INTAKE = "intake"


def lower_priority(niceness: int = MediaLimit.NICENESS) -> None:
    """Make the calling thread (and threads it starts later) yield the CPU to the event loop.

    On Linux a thread's nice value is its own (PRIO_PROCESS with a thread id), and threads
    it creates inherit it. Elsewhere this is a no-op.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def media_pool(name: str = _CONVERT) -> ThreadPoolExecutor:
    """The process's media threads of that kind, started on first use."""
    with _pool_lock:
        pool = _pools.get(name)
        if pool is None:
            niceness = MediaLimit.INTAKE_NICENESS if name == _INTAKE else MediaLimit.NICENESS
            pool = _pools[name] = ThreadPoolExecutor(
                max_workers=MediaLimit.WORKERS,
                thread_name_prefix=name,
                initializer=functools.partial(lower_priority, niceness),
            )
        return pool


async def run_media(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking media ``work`` (a conversion for Slack) in the media pool and wait for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(media_pool(), functools.partial(work, *args, **kwargs))


async def run_intake(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking work on a candidate's incoming recording (measuring, storing) in threads
    no conversion for Slack occupies, and wait for it."""
    loop = asyncio.get_running_loop()
    pool = media_pool(_INTAKE)
    return await loop.run_in_executor(pool, functools.partial(work, *args, **kwargs))
