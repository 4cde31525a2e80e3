"""PostgreSQL: transcription as procrastinate jobs, run by `hirebot worker` processes.

The answer's row stays the truth, so these check what the jobs add: every answer waiting gets
exactly one job, whoever stores it; a worker process transcribes it; a job of a dead worker
does not keep the answer waiting.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.config import Settings
from bot.errors import ConfigError
from bot.flows.ports import Transcriber
from bot.limits import TranscriptionLimit
from bot.sandbox.world import eventually
from bot.transcription.distributed import (
    QUEUE,
    TASK,
    JobDeferrer,
    build_app,
    job_lock,
    run_jobs,
    waiting_without_job,
)
from bot.unit_of_work import UnitOfWork
from bot.worker import WorkerProcess, check
from storage import transcripts
from storage.models import Answer, TranscriptStatus
from tests.transcription.test_jobs import _pending_answer, _thread_posts


@pytest.fixture
def pg(uow: UnitOfWork, database_url: str) -> UnitOfWork:
    if not database_url.startswith("postgresql"):
        pytest.skip("procrastinate jobs are PostgreSQL's; SQLite keeps the lease queue")
    return uow


def _jobs(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(queueing lock, status) of every transcription job, oldest first."""

    def read(session: Session, _now: datetime) -> list[tuple[str, str]]:
        rows = session.execute(
            text("SELECT queueing_lock, status FROM procrastinate_jobs ORDER BY id")
        )
        return [(str(lock), str(status)) for lock, status in rows]

    return uow.run_sync(read)


async def test_each_waiting_answer_gets_one_job_however_many_processes_defer(
    pg: UnitOfWork, database_url: str
) -> None:
    answer_id = _pending_answer(pg, pg.media)
    apps = [build_app(database_url), build_app(database_url)]
    for app in apps:
        await app.open_async()
    try:
        first, second = (JobDeferrer(app, pg) for app in apps)
        assert await first.sweep() == 1
        assert await second.sweep() == 0, "a job already waits for it"
        assert await second.defer(answer_id) is False, "queueing_lock: one waiting job"
        assert _jobs(pg) == [(job_lock(answer_id), "todo")]
        # Claimed by a worker (its lease holds) or done: nothing more to defer.
        pg.run_sync(lambda s, now: s.execute(text("DELETE FROM procrastinate_jobs")))
        claimed = pg.run_sync(
            lambda s, now: transcripts.claim(s, answer_id, now=now, lease=timedelta(seconds=30))
        )
        assert claimed
        assert pg.run_sync(waiting_without_job) == []
    finally:
        for app in apps:
            await app.close_async()


async def test_worker_process_transcribes_an_answer_it_finds_waiting(
    pg: UnitOfWork, database_url: str, transcriber: Transcriber, tmp_path: Path
) -> None:
    answer_id = _pending_answer(pg, pg.media)
    settings = Settings(database_url=database_url, data_dir=tmp_path)  # the uow's media
    async with WorkerProcess(
        settings, concurrency=1, health_port=0, load_model=lambda: transcriber
    ) as worker:
        await eventually(
            lambda: _answer_status(pg, answer_id) == TranscriptStatus.DONE,
            seconds=60,
            what="the worker's transcript",
        )
        healthy, said = await asyncio.to_thread(check, "127.0.0.1", worker.http_port or 0)
        assert healthy, said
        assert '"worker": "running"' in said
    posts = _thread_posts(pg)
    assert len(posts) == 1 and "payment" in posts[0].lower()
    assert _jobs(pg) == [], "finished jobs are deleted: the answer's row keeps the outcome"
    assert check("127.0.0.1", worker.http_port or 0)[0] is False, "stopped: no answer"


async def test_job_left_by_a_dead_worker_is_failed_and_the_answer_deferred_again(
    pg: UnitOfWork, database_url: str
) -> None:
    answer_id = _pending_answer(pg, pg.media)
    app = build_app(database_url)
    async with app.open_async():
        deferrer = JobDeferrer(app, pg)
        await deferrer.sweep()
        # A worker took the job and claimed the answer, then was killed: its heartbeat stops.
        manager = app.job_manager
        worker_id = await manager.register_worker()
        job = await manager.fetch_job(queues=[QUEUE], worker_id=worker_id)
        assert job is not None and job.task_name == TASK
        pg.run_sync(
            lambda s, now: transcripts.claim(s, answer_id, now=now, lease=timedelta(seconds=30))
        )
        pg.run_sync(
            lambda s, now: s.execute(
                text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
            )
        )
        assert await deferrer.sweep() == 0, "its lease still holds"
        assert _jobs(pg) == [], "the dead worker's job is gone: its lock no longer blocks"
        # The lease runs out (TranscriptionLimit.LEASE_SECONDS): the answer gets a new job.
        pg.run_sync(
            lambda s, now: s.execute(
                text("UPDATE answer SET transcript_locked_until = :past"),
                {"past": now - timedelta(seconds=1)},
            )
        )
        assert await deferrer.sweep() == 1
        assert _jobs(pg) == [(job_lock(answer_id), "todo")]
    assert TranscriptionLimit.LEASE_SECONDS <= 30


def test_workers_need_postgresql() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL"):
        WorkerProcess(Settings(database_url="sqlite:///x.db"))
    with pytest.raises(ConfigError, match="HIREBOT_EXTERNAL_WORKERS"):
        Settings(database_url="sqlite:///x.db", external_workers=True).check_for_workers()


def _answer_status(uow: UnitOfWork, answer_id: int) -> str:
    return uow.run_sync(lambda s, _now: s.get_one(Answer, answer_id).transcript_status)


async def test_a_worker_refuses_a_database_not_migrated_yet(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("workers are PostgreSQL's")
    worker = WorkerProcess(Settings(database_url=database_url), health_port=0)
    with pytest.raises(ConfigError, match="hirebot migrate"):
        await worker.start()


async def test_a_worker_stopped_by_an_error_is_started_again() -> None:
    """PostgreSQL restarted under a bot process's in-process worker: it comes back by itself."""
    runs: list[list[str]] = []

    class Jobs:
        async def run_worker_async(self, **options: Any) -> None:
            runs.append(options["queues"])
            if len(runs) == 1:
                raise OSError("server closed the connection unexpectedly")

    class Model:
        async def load(self) -> None:
            return None

    await run_jobs(Jobs(), Model(), concurrency=1)  # type: ignore[arg-type]
    assert runs == [[QUEUE], [QUEUE]]
