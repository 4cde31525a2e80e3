"""Row locks on an interview, so concurrent changes to one candidate take turns.

Several bot processes share one PostgreSQL: a candidate's answer, a recruiter's extension and
the reminder tick may touch the same interview at once. Every flow that changes an interview
reads it with ``SELECT … FOR UPDATE`` first; the second transaction waits for the first to
commit and then sees its result. SQLite ignores the clause; there ``hold_the_writer`` takes
the database's write lock instead, which serialises the same way.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.models import Interview


def hold_the_writer(session: Session) -> None:
    """On SQLite, take the database's write lock now, before this transaction reads.

    SQLite runs a transaction's reads before its first write outside any lock, so two
    transactions could both read the same state and both write on it. A write statement,
    even one that changes no row, makes the second wait until the first commits, and then
    read what it wrote. PostgreSQL needs nothing here: its row locks and constraints do it.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE interview SET id = id WHERE 0 = 1"))


def locked(session: Session, interview_id: int) -> Interview | None:
    """The interview (None if there is none), read under a row lock held until commit."""
    hold_the_writer(session)
    return session.exec(
        select(Interview)
        .where(col(Interview.id) == interview_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
