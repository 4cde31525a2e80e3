"""Row locks on an interview, so concurrent changes to one candidate take turns.

Several bot processes share one PostgreSQL: a candidate's answer, a recruiter's extension and
the reminder tick may touch the same interview at once. Every flow that changes an interview
reads it with ``SELECT … FOR UPDATE`` first; the second transaction waits for the first to
commit and then sees its result. (SQLite has one writer at a time and ignores the clause.)
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Interview


def locked(session: Session, interview_id: int) -> Interview | None:
    """The interview (None if there is none), read under a row lock held until commit."""
    return session.exec(
        select(Interview)
        .where(col(Interview.id) == interview_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
