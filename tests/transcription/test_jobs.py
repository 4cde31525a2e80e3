"""The transcription worker: answers are transcribed off the event loop, exactly once, even
across a crash, and a failure never keeps an answer out of the review thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.flows.outgoing import Kind
from bot.flows.ports import Transcriber, Transcript
from bot.limits import TranscriptionLimit
from bot.sandbox.world import eventually
from bot.transcription.jobs import TranscriptionWorker, pool_size, transcription_pool
from bot.unit_of_work import UnitOfWork
from storage import transcripts
from storage.media import MediaFolder, MediaStore
from storage.media_s3 import MediaBucket
from storage.models import (
    Answer,
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    OutboxMessage,
    Question,
    ReviewPost,
    TranscriptStatus,
)
from tests.helpers.media import ANSWER1_OGG
from tests.helpers.s3 import new_bucket, outage

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The time the worker sees; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


class BrokenModel:
    """A Transcriber whose model fails the way a real one can (out of memory, CUDA error)."""

    def __init__(self) -> None:
        self.languages: list[str | None] = []

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        self.languages.append(language)
        raise RuntimeError("CUDA out of memory")


class StuckModel:
    """A Transcriber that stalls until released, then answers: a worker that hung."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.release = threading.Event()

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        self.loop.call_soon_threadsafe(self.started.set)
        self.release.wait(timeout=30)
        return Transcript("a late result", "en", 1.0, 1.0)


@pytest.fixture
def media(uow: UnitOfWork) -> MediaStore:
    return uow.media


def _pending_answer(uow: UnitOfWork, media: MediaStore) -> int:
    """A candidate's submitted voice note waiting for its transcript."""
    stored = media.put(ANSWER1_OGG.read_bytes(), ".ogg")

    def create(session: Session, _now: datetime) -> int:
        opening = Opening(
            slug="backend",
            title="Backend engineer",
            review_channel="C1",
            created_at=START,
            updated_at=START,
        )
        session.add(opening)
        session.flush()
        assert opening.id is not None
        question = Question(
            opening_id=opening.id,
            position=0,
            text="Tell us about a project.",
            prep_seconds=30,
            answer_seconds=120,
            max_takes=3,
            answer_types=["voice"],
        )
        candidate = Candidate(name="Ada", created_at=START)
        session.add_all([question, candidate])
        session.flush()
        assert question.id is not None and candidate.id is not None
        interview = Interview(
            opening_id=opening.id,
            candidate_id=candidate.id,
            token_hash="h" * 64,
            status=InterviewStatus.ANSWERING,
            deadline_at=START + timedelta(days=7),
            invited_by="U1",
            created_at=START,
        )
        session.add(interview)
        session.flush()
        assert interview.id is not None
        session.add(ReviewPost(interview_id=interview.id, channel="C1", created_at=START))
        answer = Answer(
            interview_id=interview.id,
            question_id=question.id,
            media_kind="voice",
            media_path=stored.relpath,
            media_sha256=stored.sha256,
            media_bytes=stored.size,
            received_at=START,
            transcript_status=TranscriptStatus.PENDING,
        )
        session.add(answer)
        session.flush()
        assert answer.id is not None
        return answer.id

    return uow.run_sync(create)


def _worker(
    uow: UnitOfWork,
    media: MediaStore,
    model: Transcriber,
    clock: Clock,
    pool: ThreadPoolExecutor,
    language: str | None = None,
) -> TranscriptionWorker:
    assert media is uow.media
    return TranscriptionWorker(
        replace(uow, now=clock),
        load=lambda: model,
        executor=pool,
        language_of=lambda _session, _answer_id: language,
    )


def _thread_posts(uow: UnitOfWork) -> list[str]:
    def read(session: Session, _now: datetime) -> list[str]:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == Kind.THREAD_POST)
        ).all()
        return [str(row.payload["text"]) for row in rows]

    return uow.run_sync(read)


def _answer(uow: UnitOfWork, answer_id: int) -> Answer:
    return uow.run_sync(lambda s, _now: s.get_one(Answer, answer_id))


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


async def test_answer_left_by_a_crash_is_transcribed_once_after_restart(
    uow: UnitOfWork, media: MediaStore, transcriber: Transcriber, pool: ThreadPoolExecutor
) -> None:
    answer_id = _pending_answer(uow, media)
    clock = Clock()
    stuck = StuckModel()
    first = _worker(uow, media, stuck, clock, pool)
    running = asyncio.create_task(first.transcribe_next())
    await asyncio.wait_for(stuck.started.wait(), timeout=10)
    # The process dies mid-transcription: its claim stays and nothing after it happens.
    # (A graceful stop cancels the task instead, which hands the answer back at once.)
    assert _answer(uow, answer_id).transcript_status == TranscriptStatus.PENDING

    restarted = _worker(uow, media, transcriber, clock, pool)
    clock.at += timedelta(seconds=TranscriptionLimit.LEASE_SECONDS - 1)
    assert not await restarted.transcribe_next(), "the lease still holds: not yet"
    clock.at += timedelta(seconds=2)
    assert await restarted.transcribe_next()
    assert not await restarted.transcribe_next(), "done exactly once"
    # Had the first worker only stalled, its late result changes nothing.
    stuck.release.set()
    await asyncio.wait_for(running, timeout=10)

    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.DONE
    assert "payment" in (answer.transcript_text or "").lower()
    assert answer.transcript_language == "en"
    assert answer.transcript_language_probability == pytest.approx(1.0)
    assert answer.transcript_segments and answer.transcript_segments[0]["start"] == 0.0
    posts = _thread_posts(uow)
    assert len(posts) == 1 and "payment" in posts[0].lower()


async def test_failing_model_is_retried_with_backoff_then_posted_without_transcript(
    uow: UnitOfWork, media: MediaStore, pool: ThreadPoolExecutor
) -> None:
    answer_id = _pending_answer(uow, media)
    clock = Clock()
    broken = BrokenModel()
    worker = _worker(uow, media, broken, clock, pool, language="de")
    waits = []
    for _attempt in range(TranscriptionLimit.MAX_ATTEMPTS - 1):
        assert await worker.transcribe_next()
        assert _thread_posts(uow) == [], "a retry is still coming: nothing posted yet"
        locked = _answer(uow, answer_id).transcript_locked_until
        assert locked is not None
        waits.append((locked - clock.at).total_seconds())
        assert not await worker.transcribe_next(), "waits for its backoff"
        clock.at = locked + timedelta(seconds=1)
    assert waits == [5, 10]
    assert await worker.transcribe_next()
    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.FAILED
    assert "CUDA out of memory" in (answer.transcript_error or "")
    posts = _thread_posts(uow)
    assert len(posts) == 1 and "listen to the recording" in posts[0]
    # The opening's language reached the model on every attempt.
    assert broken.languages == ["de"] * TranscriptionLimit.MAX_ATTEMPTS


async def test_unreadable_recording_is_posted_at_once_without_retries(
    uow: UnitOfWork, media: MediaStore, transcriber: Transcriber, pool: ThreadPoolExecutor
) -> None:
    answer_id = _pending_answer(uow, media)
    relpath = _answer(uow, answer_id).media_path
    assert relpath is not None and isinstance(media, MediaFolder)
    media.path(relpath).write_bytes(b"not a recording at all" * 100)
    worker = _worker(uow, media, transcriber, Clock(), pool)
    assert await worker.transcribe_next()
    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.FAILED
    assert answer.transcript_attempts == 1, "one attempt, counted when it was claimed"
    assert "damaged" in (answer.transcript_error or "")
    assert len(_thread_posts(uow)) == 1


async def test_a_worker_that_dies_each_time_uses_its_attempts_then_the_answer_is_posted(
    uow: UnitOfWork, media: MediaStore, transcriber: Transcriber, pool: ThreadPoolExecutor
) -> None:
    """A file that kills the process (the OOM killer) is not claimed and retried forever."""
    answer_id = _pending_answer(uow, media)
    clock = Clock()
    lease = timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)
    for attempt in range(1, TranscriptionLimit.MAX_ATTEMPTS + 1):
        # A worker claims the answer, then its process dies before it can say anything.
        claimed = uow.run_sync(lambda s, _now: transcripts.claim_next(s, now=clock.at, lease=lease))
        assert claimed == answer_id
        answer = _answer(uow, answer_id)
        assert answer.transcript_attempts == attempt, "counted at the claim, not the failure"
        assert answer.transcript_status == TranscriptStatus.PENDING
        clock.at += lease + timedelta(seconds=1)

    worker = _worker(uow, media, transcriber, clock, pool)
    assert await worker.transcribe_next()
    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.FAILED
    assert answer.transcript_attempts == TranscriptionLimit.MAX_ATTEMPTS + 1
    assert "gave up after 3 attempts" in (answer.transcript_error or "")
    posts = _thread_posts(uow)
    assert len(posts) == 1
    assert "Transcript unavailable: please listen to the recording." in posts[0]
    clock.at += timedelta(days=1)
    assert not await worker.transcribe_next(), "never tried again"
    assert _answer(uow, answer_id).transcript_status == TranscriptStatus.FAILED


async def test_lease_is_short_renewed_while_the_work_runs_and_lost_after_a_crash(
    uow: UnitOfWork, media: MediaStore, transcriber: Transcriber, pool: ThreadPoolExecutor
) -> None:
    """Reviewers wait seconds after a crash, and a long transcription keeps its answer."""
    assert TranscriptionLimit.LEASE_SECONDS <= 30, "a crash delays a transcript by seconds"
    answer_id = _pending_answer(uow, media)
    clock = Clock()
    stuck = StuckModel()
    first = TranscriptionWorker(
        replace(uow, now=clock),
        load=lambda: stuck,
        executor=pool,
        heartbeat_seconds=0.05,
    )
    running = asyncio.create_task(first.transcribe_next())
    await asyncio.wait_for(stuck.started.wait(), timeout=10)
    other = _worker(uow, media, transcriber, clock, pool)
    # The work outlasts many leases: each heartbeat renews it from the clock's "now".
    for _ in range(5):
        clock.at += timedelta(seconds=TranscriptionLimit.LEASE_SECONDS - 1)
        await eventually(
            lambda: _locked_until(uow, answer_id) > clock.at + timedelta(seconds=1),
            what="a renewed lease",
        )
        assert not await other.transcribe_next(), "a live worker keeps its answer"

    # The process dies (its heartbeat with it): the lease runs out within 60 s.
    running.cancel()
    # (cancel() hands the answer back; a kill -9 does not, so put the claim back as it was.)
    await asyncio.gather(running, return_exceptions=True)
    crashed_at = clock.at
    uow.run_sync(lambda s, _now: _reclaim_as_dead(s, answer_id, until=crashed_at))
    clock.at = crashed_at + timedelta(seconds=TranscriptionLimit.LEASE_SECONDS - 1)
    assert not await other.transcribe_next()
    clock.at = crashed_at + timedelta(seconds=TranscriptionLimit.LEASE_SECONDS + 1)
    assert await other.transcribe_next()
    stuck.release.set()
    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.DONE
    assert len(_thread_posts(uow)) == 1


def _locked_until(uow: UnitOfWork, answer_id: int) -> datetime:
    locked = _answer(uow, answer_id).transcript_locked_until
    assert locked is not None
    return locked if locked.tzinfo else locked.replace(tzinfo=UTC)


def _reclaim_as_dead(session: Session, answer_id: int, *, until: datetime) -> None:
    """The state a kill -9 leaves: claimed (attempt counted), leased until ``until``."""
    answer = session.get_one(Answer, answer_id)
    answer.transcript_attempts += 1
    answer.transcript_locked_until = until + timedelta(seconds=TranscriptionLimit.LEASE_SECONDS)


def test_pool_is_sized_to_the_machine() -> None:
    assert pool_size(1) == 1
    assert pool_size(2) == 1  # two cores an answer: two at once cost the candidates
    assert pool_size(4) == 2
    assert pool_size(16) == 4
    assert pool_size(16, backend="openai-whisper") == 1  # one model, one answer at a time


class ReadingModel:
    """A Transcriber that reads the file it is handed, as a model does, and notes what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[Path, bytes, int]] = []

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        self.seen.append((media, media.read_bytes(), media.stat().st_mode & 0o777))
        return Transcript("heard from the bucket", "en", 1.0, 7.0)


async def test_a_worker_reads_the_answer_from_the_bucket_and_retries_while_it_is_down(
    uow: UnitOfWork, pool: ThreadPoolExecutor, s3_endpoint: str
) -> None:
    """Media in object storage: the worker transcribes a private local copy (deleted after),
    and a bucket it cannot reach is waited for, however long it is down, without using up
    the answer's attempts: nothing lost, no "transcript unavailable" for an outage."""
    with outage(s3_endpoint) as s3:
        bucket = replace(new_bucket(s3_endpoint), endpoint_url=s3.endpoint)
        unit = replace(uow, media=MediaBucket(bucket))
        answer_id = _pending_answer(unit, unit.media)
        clock, model = Clock(), ReadingModel()
        worker = _worker(unit, unit.media, model, clock, pool)

        s3.down()
        for _ in range(TranscriptionLimit.MAX_ATTEMPTS + 2):  # longer than the attempts last
            assert await worker.transcribe_next()
            answer = _answer(uow, answer_id)
            assert answer.transcript_status == TranscriptStatus.PENDING
            assert answer.transcript_attempts == 0
            assert "MediaUnavailable" in (answer.transcript_error or "")
            assert f"media bucket {bucket.name} at 127.0.0.1" in (answer.transcript_error or "")
            assert not await worker.transcribe_next(), "waits before trying the store again"
            clock.at += timedelta(seconds=TranscriptionLimit.MEDIA_WAIT_SECONDS + 1)
        assert model.seen == [] and _thread_posts(uow) == []

        s3.up()
        assert await worker.transcribe_next()
    answer = _answer(uow, answer_id)
    assert answer.transcript_status == TranscriptStatus.DONE
    assert answer.transcript_text == "heard from the bucket"
    [(copy, data, mode)] = model.seen
    assert data == ANSWER1_OGG.read_bytes() and mode == 0o600
    assert not copy.exists() and not copy.parent.exists(), "the local copy is cleaned up"
    assert len(_thread_posts(uow)) == 1


def test_whisper_threads_yield_the_cores_to_the_bot() -> None:
    pool = transcription_pool(1)
    try:
        niceness = pool.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        ).result()
    finally:
        pool.shutdown()
    assert niceness == TranscriptionLimit.NICENESS
