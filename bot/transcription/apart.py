"""Whisper in a process of its own, next to the bot: the embedded default's transcription.

On SQLite the answers' rows are the job queue (``storage.transcripts``: claims with a lease,
attempts, "a late result changes nothing"), so any process that opens the same database
file and media folder can transcribe. The bot starts one such child and keeps it running.
Why not threads of the bot process: Whisper's own Python (decoding the recording, the beam
search between CTranslate2 calls, several answers at once) holds the interpreter lock that
the event loop and the database thread need. ``hirebot bench load`` showed it: with two
answers transcribed at once in the bot's threads, the candidates' ack p99 grew and answers
reached Slack later.

The child claims answers on its own and polls, but is woken at once through a pipe when the
bot commits an answer; it wakes the bot's outbox the same way when it commits a transcript.
It exits when the bot is gone (even after ``kill -9``), and the bot starts it again when it
dies (a decoder crash, the OOM killer): the answer it held is taken again once its lease
runs out, and its attempts are counted at the claim, as with threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from bot import backoff
from bot.limits import TranscriptionLimit

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# The child's own threads (claims, leases, results) at this niceness; Whisper's at
# TranscriptionLimit.NICENESS. The bot's event loop and database thread stay ahead of both.
CHILD_NICENESS = 10
PROCESS_NAME = "transcription"  # as the OS shows it (top, ps, /proc/<pid>/comm)
STOP_SECONDS = 10  # a graceful stop hands the answers in hand back; then it is killed
PARENT_CHECK_SECONDS = 1.0


class TranscriptionProcess:
    """The bot's side: start the child, wake it, keep it running, stop it."""

    def __init__(
        self,
        settings: Settings,
        *,
        workers: int,
        committed: Callable[[], None],
        log_level: int | None = None,
    ) -> None:
        self._settings = settings
        self._workers = workers
        self._committed = committed  # the child committed work for the outbox
        root = logging.getLogger().getEffectiveLevel()
        self._log_level = root if log_level is None else log_level
        self._process: BaseProcess | None = None
        self._wake_fd: int | None = None
        self.started = 0  # how many times a child was started (restarts: started - 1)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def wake(self) -> None:
        """An answer was committed: the child claims it now rather than at its next poll."""
        if self._wake_fd is not None:
            _poke(self._wake_fd)

    async def run_forever(self) -> None:
        """Run the child until cancelled, starting it again whenever it exits."""
        failures = 0
        try:
            while True:
                began = time.monotonic()
                code = await self._run_once()
                if time.monotonic() - began > TranscriptionLimit.LEASE_SECONDS * 4:
                    failures = 0  # it ran a good while: a new problem, not the same one
                pause = backoff.doubling(failures, first=1, most=60).total_seconds()
                failures += 1
                log.error(
                    "the transcription process exited (code %s); starting it again in %.0f s",
                    code,
                    pause,
                )
                await asyncio.sleep(pause)
        finally:
            await self._stop()

    async def _run_once(self) -> int | None:
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        wake_read, wake_write = context.Pipe(duplex=False)
        done_read, done_write = context.Pipe(duplex=False)
        process = context.Process(
            target=child_main,
            args=(self._settings, self._workers, wake_read, done_write, os.getpid()),
            kwargs={"log_level": self._log_level},
            name="hirebot-transcription",
            daemon=False,
        )
        # From this (the main) thread: the child dies with the thread that started it
        # (die_with_parent). Spawning is a fork and exec, milliseconds; the child's imports
        # and model load happen on its side.
        process.start()
        self.started += 1
        wake_read.close()
        done_write.close()  # the child holds its ends; ours see it when it goes
        self._process = process
        self._wake_fd = wake_write.fileno()
        os.set_blocking(self._wake_fd, False)
        done_fd = done_read.fileno()
        exited = loop.create_future()

        def on_done() -> None:
            if _drain(done_fd):
                self._committed()
            elif not exited.done():
                exited.set_result(None)  # end of file: the child is gone

        loop.add_reader(done_fd, on_done)
        try:
            self.wake()  # whatever is waiting already
            await exited
            await asyncio.to_thread(process.join, STOP_SECONDS)
            return process.exitcode
        finally:
            loop.remove_reader(done_fd)
            self._wake_fd = None
            wake_write.close()
            done_read.close()

    async def _stop(self) -> None:
        """SIGTERM: the child hands back the answers it holds and exits; killed if it
        does not within STOP_SECONDS."""
        process, self._process = self._process, None
        if process is None or process.exitcode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await asyncio.to_thread(process.join, STOP_SECONDS)
        if process.exitcode is None:
            log.warning("the transcription process did not stop in time; killing it")
            process.kill()
            await asyncio.to_thread(process.join, STOP_SECONDS)


def _poke(fd: int) -> None:
    # A full pipe already holds a wake-up the other side has not read: one is enough.
    with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
        os.write(fd, b".")


def _drain(fd: int) -> bool:
    """Read what is waiting; False at end of file (the writer is gone)."""
    try:
        return bool(os.read(fd, 4096))
    except BlockingIOError:
        return True
    except OSError:
        return False


def child_main(
    settings: Settings,
    workers: int,
    wake: Connection,
    done: Connection,
    parent: int,
    *,
    log_level: int = logging.INFO,
) -> None:
    """The child: the TranscriptionWorker on the bot's database and media, until SIGTERM
    or until the bot is gone."""
    from bot.cli import LOG_FORMAT
    from bot.transcription.pool import die_with_parent, lower_priority, name_os_thread

    die_with_parent()
    if os.getppid() != parent:  # gone before that took effect
        os._exit(0)
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    lower_priority(CHILD_NICENESS)
    name_os_thread(PROCESS_NAME)
    threading.Thread(target=_exit_without, args=(parent,), name="parent-watch", daemon=True).start()
    asyncio.run(_serve(settings, workers, wake.fileno(), done.fileno()))


def _exit_without(parent: int) -> None:
    """Exit once the bot that started this process is gone: after a ``kill -9`` of the bot
    it would otherwise transcribe on, unsupervised, and hold the next bot's answers."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


async def _serve(settings: Settings, workers: int, wake_fd: int, done_fd: int) -> None:
    from bot.flows import review
    from bot.runtime import keep_payloads_out_of_logs, quiet_http_logs
    from bot.transcription import load_transcriber
    from bot.transcription.jobs import TranscriptionWorker, transcription_pool
    from bot.unit_of_work import UnitOfWork
    from storage.db import Database, make_engine
    from storage.media import media_store

    quiet_http_logs()
    keep_payloads_out_of_logs()
    os.set_blocking(done_fd, False)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    executor = transcription_pool(workers)
    db = Database(make_engine(settings.db_url))
    uow = UnitOfWork(
        db=db,
        media=media_store(settings.media_dir, settings.media_bucket),
        committed=lambda: _poke(done_fd),
    )
    worker = TranscriptionWorker(
        uow,
        load=lambda: load_transcriber(
            settings.whisper_backend, settings.whisper_model, workers=workers
        ),
        executor=executor,
        concurrency=workers,
        language_of=review.transcript_language,
    )

    def on_wake() -> None:
        if _drain(wake_fd):
            worker.wake()
        else:
            stopping.set()  # the bot closed its end: it is stopping or gone

    loop.add_reader(wake_fd, on_wake)
    running = asyncio.create_task(worker.run_forever(), name="transcription")
    stopped = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        running.cancel()  # an answer in hand is handed back (TranscriptionWorker._transcribe)
        await asyncio.gather(running, return_exceptions=True)
        stopped.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
        db.dispose()
    if running.done() and not running.cancelled() and running.exception() is not None:
        raise SystemExit(1)
