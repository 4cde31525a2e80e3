"""Teammates' replies in a candidate's review thread, kept as notes (with edits and deletions).

Notes appear in ``/hire status`` and in the export. A reply outside our threads is not ours
to keep and is ignored.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Comment, Interview, InterviewStatus, ReviewPost


def thread_interview(session: Session, channel: str, thread_id: str) -> int | None:
    """The interview whose parent message is ``thread_id`` in ``channel``, if any."""
    return session.exec(
        select(ReviewPost.interview_id)
        .where(ReviewPost.channel == channel)
        .where(ReviewPost.message_id == thread_id)
    ).first()


def record(
    session: Session,
    *,
    channel: str,
    thread_id: str,
    message_id: str,
    author: str,
    text: str,
    now: datetime,
) -> bool:
    """Keep a reply as a note; False when it is not in one of our threads."""
    interview_id = thread_interview(session, channel, thread_id)
    if interview_id is None:
        return False
    if session.get_one(Interview, interview_id).status == InterviewStatus.WITHDRAWN:
        return True  # an erased candidate's thread: hirebot keeps nothing new about them
    if _find(session, message_id) is not None:
        return True  # the same message seen again (another event id for it)
    session.add(
        Comment(
            interview_id=interview_id,
            author=author,
            text=text,
            message_id=message_id,
            created_at=now,
        )
    )
    return True


def edit(session: Session, *, message_id: str, text: str, now: datetime) -> bool:
    comment = _find(session, message_id)
    if comment is None:
        return False
    comment.text = text
    comment.edited_at = now
    return True


def delete(session: Session, *, message_id: str, now: datetime) -> bool:
    """A deleted reply stays deleted for us too: its text is dropped, the fact is kept."""
    comment = _find(session, message_id)
    if comment is None:
        return False
    comment.text = ""
    comment.deleted_at = now
    return True


def notes(session: Session, interview_id: int) -> list[Comment]:
    return list(
        session.exec(
            select(Comment)
            .where(Comment.interview_id == interview_id)
            .where(col(Comment.deleted_at).is_(None))
            .order_by(col(Comment.created_at), col(Comment.id))
        ).all()
    )


def _find(session: Session, message_id: str) -> Comment | None:
    return session.exec(select(Comment).where(Comment.message_id == message_id)).first()
