"""The transcription worker: pending answers → Whisper (off the event loop) → review thread.

The model loads once, in the worker's executor. Each answer is claimed with a lease, so a
crash mid-transcription only delays it; a failure is retried with backoff, and after the last
attempt the answer is posted without a transcript rather than held back.

Threads, not processes: CTranslate2 and PyTorch release the GIL while they compute, so the
event loop keeps answering candidates during a transcription (``hirebot bench transcription``
measures its lag), and one model in memory serves every thread instead of one per process.
``HIREBOT_WHISPER_APART`` hands the files to processes instead (bot.transcription.apart),
for isolation; claims, leases and results stay here either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import backoff
from bot.errors import MediaError, described
from bot.flows import review
from bot.flows.ports import Transcriber, Transcript
from bot.limits import TranscriptionLimit
from bot.transcription.pool import lower_priority, name_os_thread
from bot.unit_of_work import UnitOfWork
from storage import transcripts
from storage.media import MediaUnavailable, local_copy
from storage.models import Answer

log = logging.getLogger(__name__)

# Answers transcribed at once on a machine with many cores: each more is a model replica's
# memory (about 100 MB for tiny.en, more for larger models).
MAX_STREAMS = 4

# Which language to pin for an answer (None: let the model detect it). The opening decides:
# a single-language opening pins its language, a multilingual one detects.
LanguageOf = Callable[[Session, int], str | None]


def pool_size(cpus: int | None = None, backend: str = "faster-whisper") -> int:
    """How many answers to transcribe at once: one per two cores, at most MAX_STREAMS.

    More answers at once, each on fewer threads, transcribe more in all (much of an answer
    is serial: decoding the file, the beam search between CTranslate2 calls). On 2 cores,
    faster-whisper tiny.en did 14.5 audio s per s as two answers on one thread each, 9.9 as
    one answer on two threads. But under ``hirebot bench load`` (200 candidates) two at once
    cost the candidates: ack p99 1.1 to 3.1 s against 0.7 to 0.8 s, answers in Slack 2.7 to
    6.7 s after Submit against 0.5 to 1.1 s, whether Whisper ran in the bot's threads or in
    processes of its own, at nice 19 or SCHED_IDLE. So each answer gets two cores, and a
    bigger machine runs more at once. openai-whisper transcribes one answer at a time (its
    model is not safe to share between threads; torch spreads one answer over the cores).
    """
    if backend == "openai-whisper":
        return 1
    return max(1, min(MAX_STREAMS, (cpus or os.cpu_count() or 1) // 2))


def transcription_pool(workers: int | None = None) -> ThreadPoolExecutor:
    """The executor for TranscriptionWorker: ``workers`` threads (default: pool_size()),
    at the lowest CPU priority, with the threads CTranslate2 starts from them (the model
    loads in this executor)."""
    return ThreadPoolExecutor(
        max_workers=workers or pool_size(),
        thread_name_prefix=WHISPER_THREADS,
        initializer=_start_whisper_thread,
    )


# The OS name of the transcription threads and of the ones CTranslate2 starts from them.
WHISPER_THREADS = "whisper"


def _start_whisper_thread() -> None:
    lower_priority(TranscriptionLimit.NICENESS)
    name_os_thread(WHISPER_THREADS)


def _detect(session: Session, answer_id: int) -> str | None:
    return None


class TranscriptionWorker:
    def __init__(
        self,
        uow: UnitOfWork,
        *,
        load: Callable[[], Transcriber],
        executor: Executor,
        language_of: LanguageOf = _detect,
        concurrency: int = 1,
        heartbeat_seconds: float = TranscriptionLimit.HEARTBEAT_SECONDS,
    ) -> None:
        self._heartbeat_seconds = heartbeat_seconds
        self._uow = uow
        self._media = uow.media
        self._load = load
        self._executor = executor
        self._now = uow.now
        self._language_of = language_of
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._transcriber: Transcriber | None = None

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @property
    def transcriber(self) -> Transcriber | None:
        """The loaded model (None until it is)."""
        return self._transcriber

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, poll_seconds: float = 2.0) -> None:
        """Load the model (in the executor), then run ``concurrency`` claim loops."""
        await self.load()
        async with asyncio.TaskGroup() as group:
            for index in range(self._concurrency):
                group.create_task(self._claim_loop(poll_seconds), name=f"transcribe-{index}")

    async def _claim_loop(self, poll_seconds: float) -> None:
        while True:
            try:
                worked = await self.transcribe_next()
            except Exception as err:
                log.error("transcription pass failed, retrying: %s", described(err))
                worked = False
            if worked:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)

    async def load(self) -> None:
        """Load the model in the executor (once); jobs wait for it rather than load twice."""
        if self._transcriber is None:
            loaded = await asyncio.get_running_loop().run_in_executor(self._executor, self._load)
            self._transcriber = self._transcriber or loaded

    async def transcribe_next(self) -> bool:
        """Claim and transcribe one pending answer; False when none is due."""
        lease = timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)

        def claim(session: Session, now: datetime) -> tuple[Answer, str | None] | None:
            answer_id = transcripts.claim_next(session, now=now, lease=lease)
            if answer_id is None:
                return None
            return session.get_one(Answer, answer_id), self._language_of(session, answer_id)

        claimed = await self._uow.run_background(claim)
        if claimed is None:
            return False
        await self._work(*claimed)
        return True

    async def transcribe_answer(self, answer_id: int) -> bool:
        """Claim and transcribe the answer a job names (PostgreSQL's procrastinate workers);
        False when it is not ours to do now: done already, held by a live worker, or
        waiting for its retry time. The claim is the same as the lease queue's, so the
        attempt limit and "a late result changes nothing" hold for jobs too."""
        lease = timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)

        def claim(session: Session, now: datetime) -> tuple[Answer, str | None] | None:
            if not transcripts.claim(session, answer_id, now=now, lease=lease):
                return None
            return session.get_one(Answer, answer_id), self._language_of(session, answer_id)

        claimed = await self._uow.run_background(claim)
        if claimed is None:
            return False
        await self._work(*claimed)
        return True

    async def _work(self, answer: Answer, language: str | None) -> None:
        """Transcribe a claimed answer (or give it up after its last attempt)."""
        assert answer.id is not None
        answer_id, relpath, attempt = answer.id, answer.media_path, answer.transcript_attempts
        assert relpath is not None
        if attempt > TranscriptionLimit.MAX_ATTEMPTS:
            # Every earlier claim ended without a word from its worker: the process died
            # (out of memory, killed, a crash in a decoder). This file is not tried again.
            log.warning("answer %s: gave up after %s attempts", answer_id, attempt - 1)
            gave_up = f"gave up after {attempt - 1} attempts: the worker stopped each time"
            await self._finish(answer_id, attempt, None, gave_up)
            return
        heartbeat = asyncio.create_task(
            self._keep_lease(answer_id, attempt), name=f"transcript-lease-{answer_id}"
        )
        try:
            await self._transcribe(answer_id, attempt, relpath, language)
        finally:
            heartbeat.cancel()

    async def _transcribe(
        self, answer_id: int, attempt: int, relpath: str, language: str | None
    ) -> None:
        await self.load()  # a no-op after run_forever; tests call transcribe_next alone
        transcriber = self._transcriber
        assert transcriber is not None
        loop = asyncio.get_running_loop()
        try:
            # From the media store (another machine's bucket, perhaps): a store that cannot
            # be reached now fails this attempt like any other error, and it is retried.
            async with local_copy(self._media, relpath) as path:
                result: Transcript = await loop.run_in_executor(
                    self._executor, transcriber.transcribe, path, language
                )
        except asyncio.CancelledError:
            # Shutting down: hand the answer back at once instead of holding it for the
            # whole lease; transcription has no side effects, so redoing it is safe.
            self._uow.run_sync(lambda s, _now: transcripts.release(s, answer_id, attempt))
            raise
        except MediaError as err:
            await self._finish(answer_id, attempt, None, str(err))
        except MediaUnavailable as err:
            # The store is down (object storage unreachable for a while): not the answer's
            # fault, so no attempt is used. Three quick attempts during a 20 s S3 outage
            # gave answers up as "transcript unavailable" under `hirebot bench load --faults`.
            log.warning("answer %s waits for the media store: %s", answer_id, described(err))
            at = self._now() + timedelta(seconds=TranscriptionLimit.MEDIA_WAIT_SECONDS)
            error = f"MediaUnavailable: {err}"  # names the store and its error code only
            await self._uow.run_background(
                lambda s, _now: transcripts.wait_for_media(
                    s, answer_id, attempt, at=at, error=error
                )
            )
        except Exception as err:
            log.warning(
                "transcription of answer %s failed (attempt %s): %s",
                answer_id,
                attempt,
                described(err),
            )
            if attempt >= TranscriptionLimit.MAX_ATTEMPTS:
                await self._finish(answer_id, attempt, None, f"{type(err).__name__}: {err}")
            else:
                # Attempts count from 1: the first retry waits FIRST_BACKOFF_SECONDS.
                at = self._now() + backoff.doubling(
                    attempt - 1,
                    first=TranscriptionLimit.FIRST_BACKOFF_SECONDS,
                    most=TranscriptionLimit.MAX_BACKOFF_SECONDS,
                )
                error = repr(err)
                await self._uow.run_background(
                    lambda s, _now: transcripts.retry_later(
                        s, answer_id, attempt, at=at, error=error
                    )
                )
        else:
            await self._finish(answer_id, attempt, result, None)

    async def _keep_lease(self, answer_id: int, attempt: int) -> None:
        """Renew the claim's short lease while the work runs (as delivery does for sends).

        A worker that dies stops renewing, so another process takes the answer over within
        one lease. A worker stuck for MAX_WORK_SECONDS stops renewing too, rather than
        holding the answer forever; should it finish later, its result changes nothing.
        """
        lease = timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)
        stop_at = asyncio.get_running_loop().time() + TranscriptionLimit.MAX_WORK_SECONDS
        while asyncio.get_running_loop().time() < stop_at:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                held = await self._uow.run_background(
                    lambda s, now: transcripts.extend_lease(
                        s, answer_id, attempt, until=now + lease
                    )
                )
            except Exception as err:
                log.error(
                    "could not renew the lease of answer %s, retrying: %s",
                    answer_id,
                    described(err),
                )
                continue
            if not held:
                return

    async def _finish(
        self, answer_id: int, attempt: int, result: Transcript | None, error: str | None
    ) -> None:

        def finish(session: Session, now: datetime) -> None:
            if not transcripts.holds(session, answer_id, attempt):
                # This worker lost its lease (it stalled, it did not die) and another one
                # claimed the answer since: posting too would duplicate or contradict it.
                return
            if result is not None:
                _record_details(session, answer_id, result)
            review.answer_transcribed(session, answer_id, result, error, now)

        await self._uow.run_background(finish)  # wakes the outbox worker: the transcript is posted


def _record_details(session: Session, answer_id: int, transcript: Transcript) -> None:
    # What reviewers need beyond what review.answer_transcribed stores and shows (the text,
    # the language and how sure Whisper was of it): when each sentence was said.
    answer = session.get_one(Answer, answer_id)
    answer.transcript_segments = [
        {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text}
        for s in transcript.segments
    ]
