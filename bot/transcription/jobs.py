"""The transcription worker: pending answers → Whisper (off the event loop) → review thread.

The model loads once, in the worker's executor. Each answer is claimed with a lease, so a
crash mid-transcription only delays it; a failure is retried with backoff, and after the last
attempt the answer is posted without a transcript rather than held back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.errors import MediaError
from bot.flows import review
from bot.flows.ports import Transcriber, Transcript
from bot.limits import TranscriptionLimit
from storage import transcripts
from storage.db import Database
from storage.media import MediaStore
from storage.models import Answer

log = logging.getLogger(__name__)


class TranscriptionWorker:
    def __init__(
        self,
        db: Database,
        *,
        media: MediaStore,
        load: Callable[[], Transcriber],
        executor: Executor,
        now: Callable[[], datetime],
        committed: Callable[[], None],
    ) -> None:
        self._db = db
        self._media = media
        self._load = load
        self._executor = executor
        self._now = now
        self._committed = committed
        self._wake = asyncio.Event()
        self._transcriber: Transcriber | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, poll_seconds: float = 2.0) -> None:
        loop = asyncio.get_running_loop()
        self._transcriber = await loop.run_in_executor(self._executor, self._load)
        while True:
            try:
                worked = await self.transcribe_next()
            except Exception:
                log.exception("transcription pass failed; retrying")
                worked = False
            if worked:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)

    async def transcribe_next(self) -> bool:
        """Claim and transcribe one pending answer; False when none is due."""
        lease = timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)
        now = self._now()

        def claim(session: Session) -> Answer | None:
            answer_id = transcripts.claim_next(session, now=now, lease=lease)
            return None if answer_id is None else session.get_one(Answer, answer_id)

        answer = await self._db.run(claim)
        if answer is None:
            return False
        assert answer.id is not None
        answer_id, relpath, attempts = answer.id, answer.media_path, answer.transcript_attempts
        assert relpath is not None and self._transcriber is not None
        path = self._media.path(relpath)
        transcriber = self._transcriber
        loop = asyncio.get_running_loop()
        try:
            result: Transcript = await loop.run_in_executor(
                self._executor, transcriber.transcribe, path
            )
        except asyncio.CancelledError:
            # Shutting down: hand the answer back at once instead of holding it for the
            # whole lease; transcription has no side effects, so redoing it is safe.
            self._db.run_sync(lambda s: transcripts.release(s, answer_id))
            raise
        except MediaError as err:
            await self._finish(answer_id, None, str(err))
        except Exception as err:
            log.warning("transcription of answer %s failed (attempt %s)", answer_id, attempts + 1)
            if attempts + 1 >= TranscriptionLimit.MAX_ATTEMPTS:
                await self._finish(answer_id, None, f"{type(err).__name__}: {err}")
            else:
                at = self._now() + timedelta(seconds=5 * 2**attempts)
                error = repr(err)
                await self._db.run(
                    lambda s: transcripts.retry_later(s, answer_id, at=at, error=error)
                )
        else:
            await self._finish(answer_id, result, None)
        return True

    async def _finish(self, answer_id: int, result: Transcript | None, error: str | None) -> None:
        now = self._now()
        await self._db.run(lambda s: review.answer_transcribed(s, answer_id, result, error, now))
        self._committed()
