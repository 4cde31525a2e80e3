"""A candidate's review thread: replies posted once by key, and edited in place later.

An answer is posted the moment it is submitted and edited when its transcript arrives; an
extension request loses its buttons once decided. Each such reply is a ``ThreadMessage``
named by a key unique within the interview, so asking twice never posts twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, select

from bot.errors import NotFound
from bot.flows import outgoing
from bot.flows.ports import Choice, ThreadNote
from storage.models import ReviewPost, ThreadMessage


def parent(session: Session, interview_id: int) -> ReviewPost:
    """The candidate's parent message, whose thread holds everything else."""
    post = parent_if_any(session, interview_id)
    if post is None:
        raise NotFound(f"Interview {interview_id} has no review post.")
    return post


def parent_if_any(session: Session, interview_id: int) -> ReviewPost | None:
    return session.exec(select(ReviewPost).where(ReviewPost.interview_id == interview_id)).first()


def find(session: Session, interview_id: int, key: str) -> ThreadMessage | None:
    return session.exec(
        select(ThreadMessage)
        .where(ThreadMessage.interview_id == interview_id)
        .where(ThreadMessage.key == key)
    ).first()


def post(
    session: Session,
    interview_id: int,
    key: str,
    text: str,
    now: datetime,
    choices: tuple[Choice, ...] = (),
) -> bool:
    """Post the reply named ``key`` unless it exists; returns whether it was posted now."""
    if find(session, interview_id, key) is not None:
        return False
    parent_post = parent(session, interview_id)
    message = ThreadMessage(interview_id=interview_id, key=key, created_at=now)
    session.add(message)
    session.flush()
    assert message.id is not None and parent_post.id is not None
    outgoing.keyed_to_thread(
        session,
        interview_id=interview_id,
        review_post_id=parent_post.id,
        thread_message_id=message.id,
        note=ThreadNote(text=text, choices=choices, key=key),
        now=now,
    )
    return True


def edit(
    session: Session,
    interview_id: int,
    key: str,
    text: str,
    now: datetime,
    choices: tuple[Choice, ...] = (),
) -> bool:
    """Replace the text (and buttons) of the reply ``key``; False if it was never posted."""
    message = find(session, interview_id, key)
    if message is None:
        return False
    assert message.id is not None
    outgoing.edit_in_thread(
        session,
        interview_id=interview_id,
        thread_message_id=message.id,
        note=ThreadNote(text=text, choices=choices, key=key),
        now=now,
    )
    return True


def record_posting(session: Session, thread_message_id: int, now: datetime) -> None:
    """Delivery is about to post: remember it tried, so a crash leads to a look, not a repost."""
    message = session.get_one(ThreadMessage, thread_message_id)
    message.posting_since = message.posting_since or now


def record_posted(session: Session, thread_message_id: int, message_id: str) -> bool:
    """Remember where a reply landed; False when it was erased while on its way."""
    message = session.get(ThreadMessage, thread_message_id)
    if message is not None:
        message.message_id = message_id
    return message is not None


class Upload(NamedTuple):
    """Where a reply's recording stood when delivery came to upload it."""

    file_id: str | None  # uploaded and recorded by an earlier attempt
    tried_before: bool  # an earlier attempt began and may have uploaded it unrecorded


def record_uploading(session: Session, thread_message_id: int, now: datetime) -> Upload | None:
    """Delivery is about to upload the reply's recording: remember it tried, so a crash leads
    to a look in the thread, not a second copy. None when the reply was erased."""
    message = session.get(ThreadMessage, thread_message_id)
    if message is None:
        return None
    upload = Upload(message.file_id, message.uploading_since is not None)
    message.uploading_since = message.uploading_since or now
    return upload


def record_file(session: Session, thread_message_id: int, file_id: str) -> bool:
    """Remember a reply's uploaded file; False when it was erased while uploading."""
    message = session.get(ThreadMessage, thread_message_id)
    if message is not None:
        message.file_id = file_id
    return message is not None


def forget(session: Session, interview_id: int) -> list[str]:
    """Erasure: forget the interview's replies; returns their files' ids, to delete them.

    The replies themselves are deleted from Slack by listing the thread (``outgoing.clear_thread``);
    a reply still on its way finds its row gone and is redacted by delivery.
    """
    files: list[str] = []
    for message in session.exec(
        select(ThreadMessage).where(ThreadMessage.interview_id == interview_id)
    ).all():
        if message.file_id is not None:
            files.append(message.file_id)
        session.delete(message)
    return files
