"""Engine and sessions: SQLite (embedded default) or PostgreSQL (by URL)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def _no_result_rows(record: logging.LogRecord) -> bool:
    # SQLAlchemy's engine logger at DEBUG prints every result row (names, answers,
    # transcripts); statements (INFO) stay, their parameters hidden by hide_parameters.
    return record.levelno > logging.DEBUG


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_no_result_rows)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    """The engine for ``url``; statements are never logged with their parameters.

    ``hide_parameters``: SQLAlchemy puts a failed statement's parameters (names, answers,
    transcripts) into the exception message, which error logs would print.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _private_sqlite_file(make_url(url).database)
        # No pre-ping: a file on this machine does not drop connections the way a server
        # does, and a ping per checkout was a statement per transaction for nothing.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


def private_dir(path: Path) -> None:
    """Create ``path`` readable by this user only (0700), whatever the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _private_sqlite_file(database: str | None) -> None:
    """Create the database file 0600 in a 0700 folder before SQLite opens it.

    SQLite creates the -wal, -shm and -journal files with the database file's own mode
    (not the umask's), so making that one private makes them all private.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file, or a umask that took bits away
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, 0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the delivery and transcription workers read while a handler writes.
    # secure_delete: deleted rows are overwritten with zeros, not left in free pages
    # (an erased candidate's words must not stay readable in the file).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def scrub_deleted(engine: Engine) -> None:
    """After an erasure commits: leave no copy of deleted rows in SQLite's write-ahead log.

    The WAL keeps whole earlier versions of pages; a TRUNCATE checkpoint copies the current
    pages into the database file (where secure_delete zeroed what was deleted) and empties
    the log. PostgreSQL has no equivalent; see the README's note on VACUUM.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        busy, _, _ = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    if busy:  # a reader held on for longer than the busy timeout
        log.warning("the WAL could not be emptied after an erasure; the next one retries")


_SCRUB = "hirebot.scrub_after_commit"
_WAKE = "hirebot.wake_workers_after_commit"


def request_scrub(session: Session) -> None:
    """Ask for ``scrub_deleted`` once this transaction commits (an erasure)."""
    session.info[_SCRUB] = True


def take_scrub(session: Session) -> bool:
    return bool(session.info.pop(_SCRUB, False))


def request_wake(session: Session) -> None:
    """This transaction leaves work for the background workers (an outbox row due, an answer
    to transcribe): wake them once it commits rather than at their next poll."""
    session.info[_WAKE] = True


def take_wake(session: Session) -> bool:
    return bool(session.info.pop(_WAKE, False))


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Threads that run transactions for the event loop. Their own pool, not asyncio's default
# one that anything may fill: media conversion or a slow file write never keeps a Slack
# ack waiting for a thread. A few more than PostgreSQL's pool (5 + 5 overflow) would only
# wait on connections.
DATABASE_THREADS = 8
# SQLite takes one writer at a time, and a connection that finds the write lock taken does
# not queue for it: it sleeps and tries again (1, 2, 5 … up to 100 ms between tries). With
# eight threads contending under `hirebot bench load`, a candidate's next step waited for
# seconds behind sleeping lock polls. One thread runs the process's transactions, with no
# polling (people's first: DatabaseThreads); the GIL ran their Python one at a time anyway.
SQLITE_THREADS = 1
# The longest background work waits while people's work is queued ahead of it.
BACKGROUND_WAIT_SECONDS = 0.25


class DatabaseThreads(Executor):
    """The threads that run transactions for the event loop, people first.

    ``submit`` is for work someone waits on (a candidate's reply, a reviewer's click, a
    command); ``submit_background`` for the process's own (the bookkeeping of what was sent
    to Slack, claims of transcription and delivery passes, leases, ticks). Under ``hirebot
    bench load`` the one SQLite thread was busy 60 % of the time and ran work in the order
    it came: a candidate's reply waited behind posts to Slack and transcription steps that
    nobody waits on by the millisecond. Here background work runs when no urgent work is
    queued, or once it has waited ``BACKGROUND_WAIT_SECONDS``, so it is delayed, never
    starved (a lease renewal comes well within its lease).
    """

    def __init__(self, workers: int, name: str = "database") -> None:
        self._workers, self._name = workers, name
        self._urgent: deque[_Item] = deque()
        self._background: deque[_Item] = deque()
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return self._queue(self._urgent, fn, *args, **kwargs)

    def submit_background(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        return self._queue(self._background, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work; the threads finish what is queued (unless cancelled), then end."""
        with self._ready:
            self._stopping = True
            if cancel_futures:
                for item in (*self._urgent, *self._background):
                    item.future.cancel()
                self._urgent.clear()
                self._background.clear()
            self._ready.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _queue(
        self, queue: deque[_Item], fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> Future[T]:
        future: Future[T] = Future()
        with self._ready:
            if self._stopping:
                raise RuntimeError("cannot schedule new work after shutdown")
            queue.append(_Item(future, fn, args, kwargs, time.monotonic()))
            # Started as work comes, like the stdlib's pool. Daemon threads: a process that
            # exits without shutting them down is not held up by them; a transaction cut
            # short that way was never acknowledged to anyone, and the database rolls it back.
            if len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._serve, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._ready.notify()
        return future

    def _next(self) -> _Item | None:
        """The next item to run (called holding the lock); None once stopped and empty."""
        while not self._urgent and not self._background:
            if self._stopping:
                return None
            self._ready.wait()
        if self._background and (
            not self._urgent
            or time.monotonic() - self._background[0].queued >= BACKGROUND_WAIT_SECONDS
        ):
            return self._background.popleft()
        return self._urgent.popleft()

    def _serve(self) -> None:
        while True:
            with self._ready:
                item = self._next()
            if item is None:
                return
            if not item.future.set_running_or_notify_cancel():
                continue
            try:
                result = item.fn(*item.args, **item.kwargs)
            except BaseException as err:
                item.future.set_exception(err)
            else:
                item.future.set_result(result)
            del item  # not kept alive (with its result) while the thread waits


@dataclass(slots=True)
class _Item:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    queued: float


class Database:
    """The engine, and the threads that run its transactions off the event loop.

    Transactions themselves are run by ``bot.unit_of_work.UnitOfWork``.
    """

    def __init__(self, engine: Engine, *, threads: int | None = None) -> None:
        self.engine = engine
        if threads is None:
            threads = SQLITE_THREADS if engine.dialect.name == "sqlite" else DATABASE_THREADS
        self.threads = DatabaseThreads(threads)

    def dispose(self) -> None:
        self.threads.shutdown(wait=False)
        self.engine.dispose()
