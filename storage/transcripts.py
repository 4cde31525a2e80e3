"""Transcription work is the Answer row itself: pending until a worker claims it with a lease.

Claiming counts an attempt, before any work starts: a file that kills the process (out of
memory, a decoder crash) has used its attempt all the same. The attempt count is also the
claim's identity: a worker renews its short lease, retries or finishes only while the count
is still the one it claimed with, so a worker that lost its lease changes nothing. A worker
that dies leaves the lease to run out; the answer is then claimed again, so a crash never
loses a transcript.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from storage.db import request_wake
from storage.models import Answer, TranscriptStatus


def queue(session: Session, answer: Answer) -> None:
    """Leave ``answer`` to the transcription workers, woken once this transaction commits."""
    answer.transcript_status = TranscriptStatus.PENDING
    request_wake(session)


def claim_next(session: Session, *, now: datetime, lease: timedelta) -> int | None:
    """Claim the oldest pending answer that no live worker holds, counting an attempt."""
    free = _free(now)
    for answer_id in session.exec(
        select(Answer.id)
        .where(Answer.transcript_status == TranscriptStatus.PENDING)
        .where(col(Answer.media_path).is_not(None))
        .where(free)
        .order_by(col(Answer.id))
        .limit(5)
    ).all():
        result = session.execute(
            update(Answer)
            .where(col(Answer.id) == answer_id)
            .where(col(Answer.transcript_status) == TranscriptStatus.PENDING)
            .where(free)
            .values(
                transcript_locked_until=now + lease,
                transcript_attempts=Answer.transcript_attempts + 1,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return answer_id
    return None


def claim(session: Session, answer_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Claim one given answer (a job named it), counting an attempt; False when it is not
    pending, not stored yet, held by a live worker or waiting for its retry time."""
    result = session.execute(
        update(Answer)
        .where(col(Answer.id) == answer_id)
        .where(col(Answer.transcript_status) == TranscriptStatus.PENDING)
        .where(col(Answer.media_path).is_not(None))
        .where(_free(now))
        .values(
            transcript_locked_until=now + lease,
            transcript_attempts=Answer.transcript_attempts + 1,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _free(now: datetime) -> ColumnElement[bool]:
    """No live worker holds the answer, and its retry time (if any) has come."""
    return or_(
        col(Answer.transcript_locked_until).is_(None), col(Answer.transcript_locked_until) < now
    )


def _held(answer_id: int, attempt: int) -> ColumnElement[bool]:
    """Still pending and still claimed by the worker that counted ``attempt``."""
    return and_(
        col(Answer.id) == answer_id,
        col(Answer.transcript_status) == TranscriptStatus.PENDING,
        col(Answer.transcript_attempts) == attempt,
    )


def holds(session: Session, answer_id: int, attempt: int) -> bool:
    """Whether the claim made with ``attempt`` is still the answer's current one."""
    return session.exec(select(Answer.id).where(_held(answer_id, attempt))).first() is not None


def extend_lease(session: Session, answer_id: int, attempt: int, *, until: datetime) -> bool:
    """Renew a claim's lease; False when it was lost (another worker claimed it since)."""
    result = session.execute(
        update(Answer).where(_held(answer_id, attempt)).values(transcript_locked_until=until)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def retry_later(
    session: Session, answer_id: int, attempt: int, *, at: datetime, error: str
) -> None:
    """Hold a failed answer until ``at`` (its attempt was counted when it was claimed)."""
    session.execute(
        update(Answer)
        .where(_held(answer_id, attempt))
        .values(transcript_locked_until=at, transcript_error=error[:500])
    )


def wait_for_media(
    session: Session, answer_id: int, attempt: int, *, at: datetime, error: str
) -> None:
    """Hold a claimed answer until ``at``, the attempt uncounted: its recording's store could
    not be reached, which says nothing about the recording."""
    session.execute(
        update(Answer)
        .where(_held(answer_id, attempt))
        .values(
            transcript_locked_until=at,
            transcript_attempts=attempt - 1,
            transcript_error=error[:500],
        )
    )


def release(session: Session, answer_id: int, attempt: int) -> None:
    """Give a claimed answer back, the attempt uncounted (a graceful stop, not a failure)."""
    session.execute(
        update(Answer)
        .where(_held(answer_id, attempt))
        .values(transcript_locked_until=None, transcript_attempts=attempt - 1)
    )
