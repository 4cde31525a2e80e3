"""Where media work runs: low-priority processes and threads of its own, never the event
loop's.

Probing a candidate's upload and converting a recording for Slack decode untrusted files
with PyAV, which holds the interpreter lock while it decodes and encodes. In threads of the
bot process that stalled the event loop and the database thread: under ``hirebot bench
load`` (100 candidates, ``py-spy --gil``) a sixth of the time the lock was held, PyAV held
it. So decoding runs in processes of its own (``run_intake``, ``run_media``): the bot's
threads never wait for it, and a file that crashes the decoder takes down a helper process,
not the bot. Writing the measured recording to the media store is I/O and stays in threads
(``run_storing``).

Two kinds: a candidate's recording is measured (``run_intake``) before they hear "got it",
while converting a copy for Slack (``run_media``) can take many seconds a video. Sharing
workers put every candidate's ack behind the conversions already queued (under ``hirebot
bench load`` with 40 candidates, acks waited for seconds); apart, a conversion never delays
an ack. Both run at a lower priority than the event loop, and each job bounds itself (a time
budget, a duration ceiling).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from bot.errors import MediaError
from bot.limits import MediaLimit

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)

_pools: dict[str, Executor] = {}
_pool_lock = threading.Lock()
_CONVERT = "media"
_INTAKE = "intake"
_STORE = "store"
_NICENESS = {
    _CONVERT: MediaLimit.NICENESS,
    _INTAKE: MediaLimit.INTAKE_NICENESS,
    _STORE: MediaLimit.INTAKE_NICENESS,
}
_CRASHED = "the recording could not be read (the decoder stopped)"


def lower_priority(niceness: int = MediaLimit.NICENESS) -> None:
    """Make the calling thread (and threads it starts later) yield the CPU to the event loop.

    On Linux a thread's nice value is its own (PRIO_PROCESS with a thread id), and threads
    it creates inherit it. Elsewhere this is a no-op.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` where the OS shows it (Linux: ``top -H``, ``ps -L``,
    /proc/<pid>/task/<tid>/comm, at most 15 bytes); threads it starts later inherit it.
    Python before 3.14 names its threads for itself only, so without this every thread of
    the bot reads "python" (``hirebot bench load`` tells CPU time apart by these names)."""
    _prctl(_PR_SET_NAME, name.encode()[:15])


def die_with_parent() -> None:
    """Linux: the kernel kills this process the moment the thread that started it ends, as
    it does when the bot is killed (even with ``kill -9``). Elsewhere a no-op; callers also
    watch their parent, which catches it within a second."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_NAME, _PR_SET_PDEATHSIG = 15, 1  # prctl(2)


def _prctl(option: int, argument: object) -> None:
    """Linux's prctl(2) for the calling thread; a no-op where there is none."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(option, argument, 0, 0, 0)


def _start_worker(niceness: int, parent: int) -> None:
    lower_priority(niceness)
    watch_parent(parent)


def pool_workers(pool: Executor) -> list[int]:
    """The process ids of a process pool's live workers (none for a thread pool)."""
    # concurrent.futures keeps them in a private mapping; there is no public view.
    processes = getattr(pool, "_processes", None) or {}
    return [p.pid for p in list(processes.values()) if p.is_alive() and p.pid is not None]


def watch_parent(parent: int) -> None:
    """In a helper process: exit once ``parent`` (the bot) is gone (see _exit_with)."""
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    """Exit once the bot process that started this worker is gone. A worker holds its own
    end of the job queue, so after a ``kill -9`` of the bot it would wait for jobs forever:
    every crash would leave its media processes behind."""
    while os.getppid() == parent:
        time.sleep(MediaLimit.ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _pool(name: str) -> Executor:
    """The process's pool of that kind, started on first use (processes: on first job)."""
    with _pool_lock:
        pool = _pools.get(name)
        if pool is None:
            if name == _STORE:
                pool = ThreadPoolExecutor(
                    max_workers=MediaLimit.WORKERS,
                    thread_name_prefix=name,
                    initializer=functools.partial(lower_priority, _NICENESS[name]),
                )
            else:
                pool = _processes(name, MediaLimit.WORKERS)
            _pools[name] = pool
        return pool


def _processes(name: str, workers: int) -> ProcessPoolExecutor:
    # spawn: a worker is a fresh interpreter, not a fork of this process with its threads
    # and sockets; it imports only what its jobs need. Its parent is this process, which it
    # watches (_start_worker).
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(_NICENESS[name], os.getpid()),
    )


def _forget(name: str, broken: Executor) -> None:
    with _pool_lock:
        if _pools.get(name) is broken:
            del _pools[name]
    broken.shutdown(wait=False)


async def _decode(name: str, work: Callable[[], T]) -> T:
    """Run ``work`` (a module-level function with its arguments: it is pickled) in the
    processes of kind ``name``. A worker that dies (a decoder crash, the OOM killer) breaks
    the pool and fails every job in it: each is tried once more in a process of its own, so
    only the file that kills a worker twice is refused, as unreadable.

    Alone, not in the next shared pool: retried side by side there, the hostile file broke
    that pool too and took an innocent file's second try with it (a CI run, 2026-11-28)."""
    loop = asyncio.get_running_loop()
    pool = _pool(name)
    try:
        return await loop.run_in_executor(pool, work)
    except BrokenProcessPool:
        _forget(name, pool)
        log.warning("a %s worker process died; trying its files again, each alone", name)
    # A process per file, but only MediaLimit.WORKERS of them at once: a crash among twenty
    # queued conversions must not start twenty interpreters together.
    async with _retry_slots(loop):
        alone = _processes(name, 1)
        try:
            return await loop.run_in_executor(alone, work)
        except BrokenProcessPool:
            log.warning("a %s worker process died again; giving up on its file", name)
            raise MediaError(_CRASHED) from None
        finally:
            alone.shutdown(wait=False)


_retries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _retry_slots(loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
    # One per event loop: an asyncio semaphore belongs to the loop it first waits on.
    slots = _retries.get(loop)
    if slots is None:
        slots = _retries[loop] = asyncio.Semaphore(MediaLimit.WORKERS)
    return slots


async def run_media(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking conversion (for Slack) in the media processes and wait for it."""
    return await _decode(_CONVERT, functools.partial(work, *args, **kwargs))


async def run_intake(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Measure a candidate's incoming recording in processes no conversion for Slack
    occupies, and wait for it."""
    return await _decode(_INTAKE, functools.partial(work, *args, **kwargs))


async def run_storing(work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking I/O on a recording (writing it to the media store) in threads of its
    own, and wait for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(_STORE), functools.partial(work, *args, **kwargs))
