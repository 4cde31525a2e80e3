"""Engine and sessions: SQLite (embedded default) or PostgreSQL (by URL)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)


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
# seconds behind sleeping lock polls. One thread runs the process's transactions in the
# order they were asked for, with no polling; the GIL ran their Python one at a time anyway.
SQLITE_THREADS = 1


class Database:
    """The engine, and the threads that run its transactions off the event loop.

    Transactions themselves are run by ``bot.unit_of_work.UnitOfWork``.
    """

    def __init__(self, engine: Engine, *, threads: int | None = None) -> None:
        self.engine = engine
        if threads is None:
            threads = SQLITE_THREADS if engine.dialect.name == "sqlite" else DATABASE_THREADS
        self.threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="database")

    def dispose(self) -> None:
        self.threads.shutdown(wait=False)
        self.engine.dispose()
