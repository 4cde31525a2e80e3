"""The one way to run a transaction: a unit of work gives ``work`` a session and the time.

``once`` runs an inbound event's work at most once per ``(source, key)``; ``run`` runs work
that no inbound key names (a tick, a worker's step, a read); ``run_sync`` is ``run`` in the
calling thread (the CLI, a shutdown path, tests). After a commit, and only then, the unit of
work deletes the media files the transaction stopped using, scrubs SQLite's log after an
erasure, and wakes the background workers when the transaction left them work.

Outbox rows a transaction enqueues are offered to the process's sender (``Sender``) before it
commits: the rows it can send at once are claimed in that same transaction and handed to it
after the commit. A candidate's "Got it" then leaves as soon as their answer is recorded,
instead of after the delivery worker's own claim, a transaction that waited its turn behind
everyone else's under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from storage import answer_media, inbound, outbox
from storage.db import Database, make_engine, scrub_deleted, take_scrub, take_wake, transaction
from storage.media import MediaFolder, MediaStore, MediaUnavailable
from storage.models import OutboxMessage

T = TypeVar("T")
log = logging.getLogger(__name__)

Work = Callable[[Session, datetime], T]
# What a transaction gave: the work's result, whether to wake the workers, the outbox rows
# claimed for this process's sender.
_Committed = tuple[T, bool, list[OutboxMessage]]


# SQLSTATEs of a transaction the database aborted to let others finish: deadlock_detected,
# serialization_failure. Safe to run again from the start.
_RETRYABLE = frozenset({"40P01", "40001"})
RETRIED_ABORTS = 3


class Sender(Protocol):
    """What sends outbox rows in this process (``bot.delivery.Delivery``)."""

    def claim_fresh(
        self, session: Session, now: datetime, enqueued: list[OutboxMessage]
    ) -> list[OutboxMessage]:
        """In the transaction that enqueued ``enqueued``: claim those to send at once."""
        ...

    def start_claimed(self, rows: list[OutboxMessage]) -> None:
        """After that transaction committed: send the rows ``claim_fresh`` claimed."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def _nothing() -> None:
    return None


@dataclass
class UnitOfWork:
    db: Database
    media: MediaStore
    # The configured recruiters: the adapters' role checks run inside units of work.
    recruiters: frozenset[str] = frozenset()
    now: Callable[[], datetime] = utc_now
    # Wakes the outbox and transcription workers after a commit that left them work.
    committed: Callable[[], None] = _nothing
    # Sends what a transaction enqueued without a claim of its own (set once it runs).
    sender: Sender | None = None

    async def once(
        self,
        source: str,
        key: str,
        work: Work[T],
        *,
        done: Callable[[T], bool] = lambda _result: True,
    ) -> tuple[bool, T | None]:
        """Run ``work`` once per inbound ``(source, key)``; (False, None) on a re-delivery.

        ``done(result)`` False means the update is not finished with (a check before a
        download): the key is not recorded, so the step that finishes it can record it.
        """

        def first_time(session: Session, now: datetime) -> tuple[bool, T | None]:
            if not inbound.first_time(session, source, key, now):
                return False, None
            result = work(session, now)
            if not done(result):
                inbound.forget(session, source, key)
            return True, result

        return await self.run(first_time)

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction in a database thread: never blocks the loop.

        ``work`` gets the time its transaction starts, not the time it was handed over: under
        load a transaction can wait seconds for a database thread, and a lease reckoned from
        the earlier time would run out that much sooner, letting another process take a
        message this one is still sending (and send it again).
        """
        return await self._run(work, self.db.threads.submit)

    async def run_background(self, work: Work[T]) -> T:
        """``run`` for work nobody waits on by the millisecond (bookkeeping after a send, a
        transcription step, a tick): it waits while people's work is queued, up to a bound
        (``storage.db.DatabaseThreads``)."""
        return await self._run(work, self.db.threads.submit_background)

    async def _run(self, work: Work[T], submit: Callable[..., Future[_Committed[T]]]) -> T:
        sender = self.sender
        pending = submit(self._commit_now, work, sender)
        try:
            result, wake, claimed = await asyncio.wrap_future(pending)
        except asyncio.CancelledError:
            # The caller gave up (a handler's time limit, a shutdown), but a transaction
            # already running commits anyway: what it claimed is still sent, and the workers
            # still woken, rather than left for a lease to run out.
            loop = asyncio.get_running_loop()

            def hand_over(done: Future[_Committed[T]]) -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to send on
                    loop.call_soon_threadsafe(self._after_cancel, done, sender)

            pending.add_done_callback(hand_over)
            raise
        self._after_commit(wake, claimed, sender)
        return result

    def _after_commit(
        self, wake: bool, claimed: list[OutboxMessage], sender: Sender | None
    ) -> None:
        if claimed and sender is not None:
            sender.start_claimed(claimed)
        if wake:
            self.committed()

    def _after_cancel(self, done: Future[_Committed[T]], sender: Sender | None) -> None:
        if done.cancelled() or done.exception() is not None:
            return  # never ran, or rolled back
        _, wake, claimed = done.result()
        self._after_commit(wake, claimed, sender)

    def run_sync(self, work: Work[T]) -> T:
        """``run`` in the calling thread (from the event loop's thread it blocks the loop).

        Its outbox rows are left to the delivery worker: the caller may not be on the loop
        that would send them."""
        result, wake, claimed = self._commit(work, self.now(), None)
        self._after_commit(wake, claimed, None)
        return result

    def _commit_now(self, work: Work[T], sender: Sender | None) -> _Committed[T]:
        return self._commit(work, self.now(), sender)

    def _commit(self, work: Work[T], now: datetime, sender: Sender | None) -> _Committed[T]:
        """The transaction, then what may only happen once it has committed.

        A transaction PostgreSQL aborts to break a deadlock (or a serialization failure) is
        run again from the start: nothing of it was committed, and the database chose it only
        to let another finish. Six candidates pressing overlapping slots at once deadlocked
        in the booking seats' exclusion constraint; run again, the losers read "taken".
        """
        for attempt in range(1, RETRIED_ABORTS + 2):
            try:
                with transaction(self.db.engine) as session:
                    result = work(session, now)
                    enqueued = outbox.take_enqueued(session)
                    claimed = sender.claim_fresh(session, now, enqueued) if sender else []
                    discarded = answer_media.take_discarded(session)
                    scrub = take_scrub(session)
                    # The delivery worker is woken for the rows not claimed here.
                    left = {row.id for row in enqueued} - {row.id for row in claimed}
                    wake = take_wake(session) or bool(left)
                break
            except OperationalError as err:
                code = getattr(err.orig, "sqlstate", None)
                if code not in _RETRYABLE or attempt > RETRIED_ABORTS:
                    raise
                log.warning("transaction aborted by the database (%s), running it again", code)
                # Apart, so the two that met do not meet again at once.
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        for relpath in discarded:
            try:
                self.media.delete(relpath)
            except MediaUnavailable as err:
                # Committed: no row refers to the file any more, so the orphan sweep deletes
                # it once the store answers again. The work's result stands.
                log.warning("media delete deferred to the orphan sweep: %s", err)
        if scrub:
            scrub_deleted(self.db.engine)
        return result, wake, claimed


@contextmanager
def opened(db_url: str, media: MediaStore | Path) -> Iterator[UnitOfWork]:
    """A unit of work on its own engine, for a command that runs a few and exits; ``media``
    is the store, or the folder of a local one."""
    db = Database(make_engine(db_url))
    try:
        yield UnitOfWork(db, MediaFolder(media) if isinstance(media, Path) else media)
    finally:
        db.dispose()
