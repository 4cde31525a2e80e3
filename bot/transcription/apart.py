"""Whisper in processes of its own, next to the bot: ``HIREBOT_WHISPER_APART=true``.

What it buys is isolation: a crash in Whisper or in the decoder it runs on a candidate's
file (a segfault, the OOM killer) takes down one of these processes, not the bot with every
conversation in it. It was written to free the bot's interpreter lock as well, but
``hirebot bench load`` (200 candidates, 2 cores) measured no gain for the candidates: most of
Whisper's time is CTranslate2's, which releases the lock, and what slowed the bot was the
cores Whisper took, not the lock. So it is off by default, and costs a process's memory
(about 260 MB for tiny.en) when on.

Only the transcribing moves: the bot's TranscriptionWorker still claims each answer, renews
its lease and records the result in the bot's own database thread, and hands the file to one
of these processes (one per answer at once, each with its model). A first design ran the
whole worker in a child process on the same SQLite file; the two processes then took turns
for SQLite's write lock, and the bot's transactions slept in SQLite's busy handler. Here the
processes never open the database: one killed mid-answer can record nothing, and the
answer's lease and attempts work as with threads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from bot.flows.ports import Transcriber, Transcript
from bot.limits import TranscriptionLimit
from bot.transcription.pool import (
    die_with_parent,
    lower_priority,
    name_os_thread,
    pool_workers,
    watch_parent,
)

log = logging.getLogger(__name__)

PROCESS_NAME = "transcription"  # as the OS shows the processes (top, ps, /proc/<pid>/comm)


class TranscriptionStopped(RuntimeError):
    """The process transcribing the answer died; the answer is tried again (an attempt)."""


class ApartTranscriber:
    """A Transcriber whose every answer runs in one of ``workers`` processes."""

    def __init__(self, backend: str, model: str, *, workers: int) -> None:
        self._spec = (backend, model, workers)
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self.restarts = 0  # processes lost and replaced (/health)
        # Load the models now (as many loads as processes; an idle pool spreads them, and a
        # process that got none loads on its first answer), so answers do not wait for it
        # and a model that cannot load stops the start as loading in the bot would.
        for ready in [self._pool.submit(_load_here) for _ in range(workers)]:
            ready.result()

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        """Blocking, like every Transcriber: call it from a worker thread."""
        pool = self._pool
        try:
            job: Future[Transcript] = pool.submit(_transcribe_here, str(media), language)
            return job.result()
        except BrokenProcessPool as err:
            # One process died and the pool with it: the answers in hand in the others fail
            # too, and are tried again like this one, in fresh processes.
            self._replace(pool)
            raise TranscriptionStopped("the transcription process stopped") from err

    def processes(self) -> int:
        """How many of its processes are running now."""
        return len(pool_workers(self._pool))

    def close(self) -> None:
        """Stop at once: an answer in hand is handed back by its worker (its lease ends)
        and transcribed again later, rather than holding up the bot's exit."""
        pool = self._pool
        for pid in pool_workers(pool):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        pool.shutdown(wait=False, cancel_futures=True)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                log.error("a transcription process died; starting new ones")
                self._pool = self._new_pool()
                self.restarts += 1
        broken.shutdown(wait=False, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        backend, model, workers = self._spec
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(backend, model, workers, os.getpid(), logging.getLogger().level),
        )


# The process's own model, loaded by _start's arguments on first use.
_model: Transcriber | None = None
_model_spec: tuple[str, str, int] | None = None


def _start(backend: str, model: str, workers: int, parent: int, log_level: int) -> None:
    """In each new process: its priority and name, a watch on the bot, logging."""
    from bot.cli import LOG_FORMAT

    global _model_spec
    # First, so that every thread started after it (the watch, CTranslate2's) inherits both.
    lower_priority(TranscriptionLimit.NICENESS)
    name_os_thread(PROCESS_NAME)
    die_with_parent()
    watch_parent(parent)  # the fallback where the kernel cannot do it
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    _model_spec = (backend, model, workers)


def _load_here() -> None:
    global _model
    if _model is None:
        from bot.transcription import load_transcriber
        from bot.transcription.faster import cpu_threads

        assert _model_spec is not None
        backend, model, workers = _model_spec
        if backend == "faster-whisper":
            from bot.transcription.faster import FasterWhisperTranscriber

            # One answer at a time here, on this process's share of the cores.
            _model = FasterWhisperTranscriber(model, threads=cpu_threads(workers))
        else:
            _model = load_transcriber(backend, model)


def _transcribe_here(media: str, language: str | None) -> Transcript:
    _load_here()
    assert _model is not None
    return _model.transcribe(Path(media), language)


def state(transcriber: Any) -> dict[str, int] | None:
    """For /health: the processes running and how often they had to be replaced."""
    if not isinstance(transcriber, ApartTranscriber):
        return None
    return {"processes": transcriber.processes(), "restarts": transcriber.restarts}
