"""Transcription work is the Answer row itself: pending until a worker claims it with a lease.

A worker that dies mid-transcription leaves the lease to run out; the answer is then claimed
again, so a crash never loses a transcript.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.models import Answer, TranscriptStatus


def claim_next(session: Session, *, now: datetime, lease: timedelta) -> int | None:
    free = or_(
        col(Answer.transcript_locked_until).is_(None), col(Answer.transcript_locked_until) < now
    )
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
            .values(transcript_locked_until=now + lease)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return answer_id
    return None


def retry_later(session: Session, answer_id: int, *, at: datetime, error: str) -> int:
    """Count a failed attempt and hold the answer until ``at``; returns attempts so far."""
    answer = session.get_one(Answer, answer_id)
    answer.transcript_attempts += 1
    answer.transcript_locked_until = at
    answer.transcript_error = error[:500]
    return answer.transcript_attempts


def release(session: Session, answer_id: int) -> None:
    """Give a claimed answer back without counting an attempt."""
    session.execute(
        update(Answer).where(col(Answer.id) == answer_id).values(transcript_locked_until=None)
    )
