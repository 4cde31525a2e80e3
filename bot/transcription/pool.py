"""Where media work runs: a few low-priority threads of its own, never the event loop's.

Probing an upload and converting a recording for Slack are CPU work on untrusted files. They
run here, not in asyncio's default executor nor the database's: six large videos queue
behind MediaLimit.WORKERS threads instead of delaying every transaction, and the threads run
at a lower priority, so the event loop still acks Slack within milliseconds while they work.
Each job bounds itself (a time budget, a duration ceiling), since a thread cannot be killed.
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

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def lower_priority() -> None:
    """Make the calling thread (and threads it starts later) yield the CPU to the event loop.

    On Linux a thread's nice value is its own (PRIO_PROCESS with a thread id), and threads
    it creates inherit it. Elsewhere this is a no-op.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), MediaLimit.NICENESS)


def media_pool() -> ThreadPoolExecutor:
    """The process's media threads, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=MediaLimit.WORKERS,
                thread_name_prefix="media",
                initializer=lower_priority,
            )
        return _pool


async def run_media(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking media ``work`` in the media pool and wait for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(media_pool(), functools.partial(work, *args, **kwargs))
