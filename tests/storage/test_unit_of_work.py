"""The one way to run a transaction: once per inbound key, then what may only follow a commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.sandbox.world import free_port
from bot.unit_of_work import UnitOfWork, opened
from storage import answer_media, migrate, outbox
from storage.db import DatabaseThreads
from storage.media import MediaFolder
from storage.media_s3 import Bucket, MediaBucket
from storage.models import OutboxMessage, ProcessedEvent

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[UnitOfWork]:
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    with opened(url, tmp_path / "media") as unit:
        unit.now = lambda: NOW
        yield unit


def _enqueue(session: Session, now: datetime) -> None:
    outbox.enqueue(session, ordering_key="k", kind="notify.user", payload={}, now=now)


async def test_an_inbound_key_is_handled_once_and_work_sees_the_units_time(
    uow: UnitOfWork,
) -> None:
    seen: list[datetime] = []

    def work(session: Session, now: datetime) -> str:
        seen.append(now)
        return "done"

    assert await uow.once("slack", "event:1", work) == (True, "done")
    assert await uow.once("slack", "event:1", work) == (False, None)
    assert seen == [NOW]


async def test_work_sees_the_time_its_transaction_starts_not_when_it_was_queued(
    tmp_path: Path,
) -> None:
    """Under load work waits for a database thread; a lease reckoned from when it was queued
    would already be partly over when it is written (and another process could take the
    row while this one still sends it)."""
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    clock = [NOW]
    with opened(url, tmp_path / "media") as unit:
        unit.db.threads = DatabaseThreads(1)  # one thread: the second waits
        unit.now = lambda: clock[0]
        busy, seen = threading.Event(), []
        holding = asyncio.create_task(unit.run(lambda _s, _now: busy.wait(10)))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(unit.run(lambda _s, now: seen.append(now)))
        await asyncio.sleep(0.05)  # handed over, still queued behind the first
        clock[0] = NOW + timedelta(seconds=12)
        busy.set()
        await asyncio.gather(holding, waiting)
    assert seen == [NOW + timedelta(seconds=12)]


async def test_work_that_is_not_done_leaves_the_key_for_the_step_that_finishes_it(
    uow: UnitOfWork,
) -> None:
    first = await uow.once("telegram", "7", lambda _s, _now: 1, done=lambda _result: False)
    assert first == (True, 1)
    assert uow.run_sync(lambda s, _now: s.exec(select(ProcessedEvent)).all()) == []
    assert await uow.once("telegram", "7", lambda _s, _now: 2) == (True, 2)


async def test_workers_are_woken_after_a_commit_that_left_them_work_only(
    uow: UnitOfWork,
) -> None:
    woken: list[str] = []
    uow.committed = lambda: woken.append("woken")

    await uow.run(lambda s, _now: outbox.pending_count(s))  # a read
    assert woken == []
    await uow.run(_enqueue)
    assert woken == ["woken"]

    def enqueue_then_fail(session: Session, now: datetime) -> None:
        _enqueue(session, now)
        raise RuntimeError("the flow failed after writing")

    with pytest.raises(RuntimeError):
        await uow.run(enqueue_then_fail)
    assert woken == ["woken"], "a rolled-back row wakes nobody"
    assert uow.run_sync(lambda s, _now: len(s.exec(select(OutboxMessage)).all())) == 1
    uow.run_sync(_enqueue)  # the sync path wakes them the same way
    assert woken == ["woken", "woken"]


async def test_a_discarded_file_is_deleted_after_commit_never_after_a_rollback(
    uow: UnitOfWork,
) -> None:
    kept = uow.media.put(b"kept after a rollback", ".ogg")
    gone = uow.media.put(b"deleted after the commit", ".ogg")

    def discard_then_fail(session: Session, _now: datetime) -> None:
        answer_media.discard_if_unused(session, kept.relpath)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await uow.run(discard_then_fail)
    await uow.run(lambda s, _now: answer_media.discard_if_unused(s, gone.relpath))
    assert isinstance(uow.media, MediaFolder)
    assert uow.media.path(kept.relpath).exists()
    assert not uow.media.path(gone.relpath).exists()


async def test_a_delete_the_media_store_refuses_is_left_to_the_sweep(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    """Object storage down after the commit: the work's result stands (it committed); no
    row refers to the file any more, so the orphan sweep deletes it later."""
    down = Bucket(
        "answers", f"http://127.0.0.1:{free_port()}", "us-east-1", "media/", True, "k", "s"
    )
    unit = replace(uow, media=MediaBucket(down))
    relpath = "ab/" + "ab" * 32 + ".ogg"

    def discard(session: Session, _now: datetime) -> str:
        answer_media.discard_if_unused(session, relpath)
        return "committed"

    assert await unit.run(discard) == "committed"
    assert "media delete deferred to the orphan sweep: media bucket answers at 127.0.0.1" in (
        caplog.text
    )


def _counted(runs: list[int]) -> Callable[[Session, datetime], None]:
    """Work that queues one outbox row and notes each time it runs."""

    def work(session: Session, now: datetime) -> None:
        runs.append(1)
        _enqueue(session, now)

    return work


class _Aborted(Exception):
    """What psycopg raises when PostgreSQL breaks a deadlock (it carries the SQLSTATE)."""

    sqlstate = "40P01"


async def test_a_transaction_the_database_aborts_for_a_deadlock_is_run_again(
    uow: UnitOfWork,
) -> None:
    aborts = [_Aborted()]

    def deadlock_once(*_args: object) -> None:
        if aborts:
            raise OperationalError("INSERT …", None, aborts.pop())

    runs: list[int] = []
    work = _counted(runs)

    event.listen(uow.db.engine, "before_cursor_execute", deadlock_once)
    try:
        await uow.run(work)
    finally:
        event.remove(uow.db.engine, "before_cursor_execute", deadlock_once)
    assert len(runs) == 2
    assert len(uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())) == 1


async def test_any_other_database_error_is_not_run_again(uow: UnitOfWork) -> None:
    def broken(*_args: object) -> None:
        raise OperationalError("INSERT …", None, Exception("disk I/O error"))

    runs: list[int] = []
    work = _counted(runs)

    event.listen(uow.db.engine, "before_cursor_execute", broken)
    try:
        with pytest.raises(OperationalError):
            await uow.run(work)
    finally:
        event.remove(uow.db.engine, "before_cursor_execute", broken)
    assert runs == [1]


class _Sender:
    """This process's sender as the unit of work sees it (bot.delivery.Delivery's part)."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def claim_fresh(
        self, session: Session, now: datetime, enqueued: list[OutboxMessage]
    ) -> list[OutboxMessage]:
        keys = dict.fromkeys(row.ordering_key for row in enqueued)
        claimed = [
            outbox.claim_next(session, k, now=now, lease=timedelta(seconds=30)) for k in keys
        ]
        return [row for row in claimed if row is not None]

    def start_claimed(self, rows: list[OutboxMessage]) -> None:
        self.started += [row.id for row in rows if row.id is not None]


async def test_rows_a_transaction_enqueues_are_claimed_in_it_for_this_processs_sender(
    uow: UnitOfWork,
) -> None:
    """The reply leaves without waiting for the delivery worker's own claim; a row the
    sender could not take (its conversation has one on the way) wakes the worker."""
    woken: list[str] = []
    uow.committed = lambda: woken.append("woken")
    uow.sender = sender = _Sender()

    await uow.run(_enqueue)
    rows = uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
    assert sender.started == [rows[0].id]
    assert rows[0].locked_until is not None, "leased to this process, as a claim leases it"
    assert woken == [], "nothing left for the worker"

    await uow.run(_enqueue)  # the same conversation: waits for the first to be sent
    assert len(sender.started) == 1
    assert woken == ["woken"]

    uow.run_sync(_enqueue)  # not on the loop: left to the worker
    assert len(sender.started) == 1
    assert woken == ["woken", "woken"]


@pytest.mark.parametrize(
    ("longest_wait", "order"),
    [
        # People's work first, though the process's own was queued before it.
        (60.0, ["a candidate's reply", "lease renewal"]),
        # Delayed, never starved: background work that has waited its bound goes first.
        (0.0, ["lease renewal", "a candidate's reply"]),
    ],
)
def test_database_threads_run_peoples_work_first_and_background_work_within_a_bound(
    monkeypatch: pytest.MonkeyPatch, longest_wait: float, order: list[str]
) -> None:
    monkeypatch.setattr("storage.db.BACKGROUND_WAIT_SECONDS", longest_wait)
    threads, busy = DatabaseThreads(1), threading.Event()
    ran: list[str] = []
    holding = threads.submit(busy.wait, 10)  # both queue while the one thread is busy
    background = threads.submit_background(ran.append, "lease renewal")
    urgent = threads.submit(ran.append, "a candidate's reply")
    busy.set()
    for future in (holding, background, urgent):
        future.result(10)
    threads.shutdown()
    assert ran == order


def test_database_threads_refuse_work_after_shutdown_and_finish_what_was_queued() -> None:
    threads, busy = DatabaseThreads(1), threading.Event()
    ran: list[str] = []
    holding = threads.submit(busy.wait, 10)
    queued = threads.submit_background(ran.append, "queued")
    threads.shutdown(wait=False)
    with pytest.raises(RuntimeError):
        threads.submit(ran.append, "late")
    busy.set()
    holding.result(10)
    queued.result(10)
    assert ran == ["queued"]


async def test_rows_claimed_by_a_transaction_whose_caller_gave_up_are_still_sent(
    uow: UnitOfWork,
) -> None:
    """A handler past its time limit is cancelled while its transaction runs; the
    transaction commits anyway, and its reply must not wait for a lease to run out."""
    woken: list[str] = []
    uow.committed = lambda: woken.append("woken")
    uow.sender = sender = _Sender()
    busy = threading.Event()

    def slow_enqueue(session: Session, now: datetime) -> None:
        busy.wait(10)
        _enqueue(session, now)

    caller = asyncio.create_task(uow.run(slow_enqueue))
    await asyncio.sleep(0.1)  # the transaction is running
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    busy.set()
    for _ in range(100):
        if sender.started:
            break
        await asyncio.sleep(0.05)
    rows = uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
    assert sender.started == [rows[0].id]
