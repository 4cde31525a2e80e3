"""Transcription on PostgreSQL: procrastinate jobs that any ``hirebot worker`` may run.

The answer's row stays the truth, as in the lease queue (``storage.transcripts``): a job only
says "transcribe answer N", and the worker that runs it claims the row with the same lease
and attempt count. So every guarantee of the embedded queue holds across machines: one
transcription of an answer at a time (the row's lease; procrastinate's ``lock`` on top keeps
two jobs of one answer from even starting together), the attempt limit counted before the
work starts (a worker killed by the OOM killer has used its attempt), retries with backoff
(``retry_later`` holds the row until its time) and "a late result changes nothing".

No answer is lost between the commit that stores it and its job: ``JobDeferrer`` defers a
job for every answer that waits with none (at once when this process stored one, and every
few seconds for answers stored elsewhere, retries whose time came, and answers whose worker
died: its lease ran out and its stalled job is failed). ``queueing_lock`` makes deferring
twice harmless, so every bot process and every worker may run a deferrer.

Jobs carry only an answer id: nothing personal lands in procrastinate's tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy import String, cast, column, exists, literal, literal_column, select, table
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from bot import backoff
from bot.errors import described
from bot.transcription.jobs import TranscriptionWorker
from bot.unit_of_work import UnitOfWork
from storage.db import normalise_url
from storage.models import Answer, TranscriptStatus

log = logging.getLogger(__name__)

QUEUE = "transcription"
TASK = "hirebot.transcribe_answer"
# Answers stored by other processes, retries whose time came, leases that ran out.
SWEEP_SECONDS = 5.0
# A job whose worker sent no heartbeat for this long (procrastinate beats every 10 s) was
# left by a dead worker: it is failed, so that its lock lets the answer's next job run.
STALLED_SECONDS = 30.0
# A stopping worker waits this long for its jobs, then cancels them: a cancelled
# transcription hands its answer back at once, and redoing it is safe.
STOP_GRACE_SECONDS = 5.0
# A worker stopped by an error is started again after 1 s, doubling up to this.
RESTART_MAX_SECONDS = 30
# Answers deferred per sweep: the rest wait for the next one.
SWEEP_BATCH = 200

_jobs = table("procrastinate_jobs", column("queueing_lock"), column("status"))


def job_lock(answer_id: int) -> str:
    return f"transcribe-answer-{answer_id}"


def conninfo(db_url: str) -> str:
    """libpq's form of our database URL (procrastinate's psycopg pool takes no dialect)."""
    url = make_url(normalise_url(db_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def build_app(
    db_url: str, *, worker: TranscriptionWorker | None = None, connections: int = 4
) -> procrastinate.App:
    """The procrastinate app on our database; ``worker`` None: this process only defers."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(db_url), min_size=1, max_size=max(2, connections)
        )
    )

    async def transcribe_answer(answer_id: int) -> None:
        if worker is None:
            raise RuntimeError("this process defers transcription jobs but runs none")
        await worker.transcribe_answer(answer_id)

    app.task(name=TASK, queue=QUEUE)(transcribe_answer)
    return app


async def run_jobs(
    app: procrastinate.App,
    worker: TranscriptionWorker,
    *,
    concurrency: int,
    queues: list[str] | None = None,
    name: str = "hirebot-worker",
) -> None:
    """Load the model, then run this process's procrastinate worker until cancelled.

    A worker stopped by an error (PostgreSQL restarted under it, say) is started again after
    a pause: a bot process has no supervisor to restart its in-process worker, and a job it
    held is failed as stalled and its answer deferred again (see JobDeferrer).
    """
    await worker.load()
    failures = 0
    while True:
        try:
            await app.run_worker_async(
                queues=queues or [QUEUE],
                concurrency=concurrency,
                name=name,
                install_signal_handlers=False,
                delete_jobs="always",  # the answer's row keeps the outcome
                shutdown_graceful_timeout=STOP_GRACE_SECONDS,
            )
            return
        except Exception as err:
            pause = backoff.doubling(failures, first=1, most=RESTART_MAX_SECONDS)
            log.error(
                "the transcription worker stopped, restarting it in %.0f s: %s",
                pause.total_seconds(),
                described(err),
            )
            failures += 1
            await asyncio.sleep(pause.total_seconds())


def waiting_without_job(session: Session, now: datetime) -> list[int]:
    """Answers to transcribe now that no job waits for: none deferred yet, a retry whose
    time has come, or a claim whose worker died (its lease ran out)."""
    job_waits = exists().where(
        _jobs.c.queueing_lock == literal(job_lock(0)[:-1]) + cast(col(Answer.id), String),
        # A literal, not a parameter: the column is procrastinate's enum (and the literal
        # matches its partial unique index on waiting jobs).
        _jobs.c.status == literal_column(f"'{Status.TODO.value}'"),
    )
    rows = session.execute(
        select(col(Answer.id))
        .where(col(Answer.transcript_status) == TranscriptStatus.PENDING)
        .where(col(Answer.media_path).is_not(None))
        .where(
            (col(Answer.transcript_locked_until).is_(None))
            | (col(Answer.transcript_locked_until) < now)
        )
        .where(~job_waits)
        .order_by(col(Answer.id))
        .limit(SWEEP_BATCH)
    )
    return [int(answer_id) for (answer_id,) in rows]


class JobDeferrer:
    """Makes sure every answer waiting for a transcript has a job (see the module's doc)."""

    def __init__(self, app: procrastinate.App, uow: UnitOfWork) -> None:
        self._app = app
        self._uow = uow
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, every: float = SWEEP_SECONDS) -> None:
        while True:
            self._wake.clear()
            try:
                await self.sweep()
            except Exception as err:
                log.error("deferring transcription jobs failed, retrying: %s", described(err))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=every)

    async def sweep(self) -> int:
        """Fail the jobs dead workers left, then defer a job for each answer with none."""
        manager = self._app.job_manager
        for job in await manager.get_stalled_jobs(
            queue=QUEUE, task_name=TASK, seconds_since_heartbeat=STALLED_SECONDS
        ):
            log.warning("transcription job %s was left by a stopped worker", job.id)
            await manager.finish_job(job, Status.FAILED, delete_job=True)
        deferred = 0
        for answer_id in await self._uow.run(waiting_without_job):
            if await self.defer(answer_id):
                deferred += 1
        return deferred

    async def defer(self, answer_id: int) -> bool:
        """One job for ``answer_id``; False when one already waits (another process's)."""
        lock = job_lock(answer_id)
        task = self._app.configure_task(TASK, lock=lock, queueing_lock=lock)
        try:
            await task.defer_async(answer_id=answer_id)
        except AlreadyEnqueued:
            return False
        return True


class BotProcessJobs:
    """A bot process's part on PostgreSQL: defer jobs for the answers it stores and, unless
    HIREBOT_EXTERNAL_WORKERS says the `hirebot worker` processes do it all, run a worker
    of its own (a one-machine PostgreSQL install then needs no second process)."""

    def __init__(
        self, db_url: str, uow: UnitOfWork, worker: TranscriptionWorker, *, external: bool
    ) -> None:
        self._worker = None if external else worker
        self._concurrency = 0 if external else worker.concurrency
        self.app = build_app(db_url, worker=self._worker, connections=self._concurrency + 2)
        self.deferrer = JobDeferrer(self.app, uow)

    async def start(self) -> list[asyncio.Task[None]]:
        await self.app.open_async()
        tasks = [asyncio.create_task(self.deferrer.run_forever(), name="transcription-deferrer")]
        if self._worker is not None:
            work = run_jobs(self.app, self._worker, concurrency=self._concurrency, name="bot")
            tasks.append(asyncio.create_task(work, name="procrastinate-worker"))
        return tasks

    def wake(self) -> None:
        self.deferrer.wake()

    async def live_workers(self) -> int:
        """Workers (any process) that sent a heartbeat lately: /health shows it, so that
        HIREBOT_EXTERNAL_WORKERS with no `hirebot worker` running is seen at once."""
        rows = await self.app.connector.execute_query_one_async(
            "SELECT count(*) AS live FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %(seconds)s)",
            seconds=STALLED_SECONDS,
        )
        return int(rows["live"])

    async def close(self) -> None:
        await self.app.close_async()
