"""What flows want said, recorded in the outbox inside the flow's own transaction.

Payloads are plain JSON: the delivery worker (bot.delivery) turns each kind into one call on
a port (CandidateChannel, ReviewChannel) after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot.flows.ports import CandidateCard, Choice, ThreadNote
from storage import outbox


class Kind(StrEnum):
    CANDIDATE_TEXT = "candidate.text"
    CARD_POST = "review.card.post"
    CARD_UPDATE = "review.card.update"
    THREAD_POST = "review.thread.post"
    THREAD_EDIT = "review.thread.edit"
    THREAD_UPLOAD = "review.thread.upload"
    FILE_DELETE = "review.file.delete"
    THREAD_CLEAR = "review.thread.clear"  # erasure: delete every reply the bot posted
    COPY_DELETE = "review.copy.delete"  # erasure: a DM or export file that named them
    NOTIFY_USER = "review.notify"
    PRIVATE_NOTE = "review.private"
    USER_FILE = "review.user.file"


def to_candidate(
    session: Session,
    chat_id: int,
    text: str,
    now: datetime,
    choices: list[list[Choice]] | None = None,
) -> None:
    outbox.enqueue(
        session,
        ordering_key=f"{_CANDIDATE_KEY}{chat_id}",
        kind=Kind.CANDIDATE_TEXT,
        payload={
            "chat_id": chat_id,
            "text": text,
            "choices": [[asdict(c) for c in row] for row in (choices or [])],
        },
        now=now,
    )


_REVIEW_KEY = "review:"
_CANDIDATE_KEY = "tg:"


def _thread_key(interview_id: int) -> str:
    # One key per review thread: the parent is posted before any reply or update to it.
    return f"{_REVIEW_KEY}{interview_id}"


def interview_of(ordering_key: str) -> int | None:
    """The interview whose review thread ``ordering_key`` orders, if it is one."""
    if ordering_key.startswith(_REVIEW_KEY):
        return int(ordering_key.removeprefix(_REVIEW_KEY))
    return None


def to_a_candidate(ordering_key: str) -> bool:
    """Whether ``ordering_key`` orders the messages to one candidate's Telegram chat."""
    return ordering_key.startswith(_CANDIDATE_KEY)


def post_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(card.interview_id),
        kind=Kind.CARD_POST,
        payload={"review_post_id": review_post_id, "card": card_json(card)},
        now=now,
    )


def update_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    """Re-render the card. Each update carries the whole card, so one still waiting to go out
    is replaced rather than followed: a burst of votes makes one Slack call, not one each
    (chat.update is rate-limited per channel)."""
    outbox.drop_pending(session, ordering_key=_thread_key(card.interview_id), kind=Kind.CARD_UPDATE)
    outbox.enqueue(
        session,
        ordering_key=_thread_key(card.interview_id),
        kind=Kind.CARD_UPDATE,
        payload={"review_post_id": review_post_id, "card": card_json(card)},
        now=now,
    )


def to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    text: str,
    now: datetime,
) -> None:
    """A note in the thread that is never edited later (decisions, deadlines, reminders)."""
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_POST,
        payload={"review_post_id": review_post_id, "text": text},
        now=now,
    )


def keyed_to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    thread_message_id: int,
    note: ThreadNote,
    now: datetime,
) -> None:
    """Post a reply whose id is recorded on ``ThreadMessage`` so it can be edited later."""
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_POST,
        payload={
            "review_post_id": review_post_id,
            "thread_message_id": thread_message_id,
            **_note_json(note),
        },
        now=now,
    )


def edit_in_thread(
    session: Session, *, interview_id: int, thread_message_id: int, note: ThreadNote, now: datetime
) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_EDIT,
        payload={"thread_message_id": thread_message_id, **_note_json(note)},
        now=now,
    )


def upload_to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    media_path: str,
    media_title: str,
    thread_message_id: int,
    now: datetime,
) -> None:
    """Upload a recording under the reply ``thread_message_id`` (which records its file id)."""
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_UPLOAD,
        payload={
            "review_post_id": review_post_id,
            "media_path": media_path,
            "media_title": media_title,
            "thread_message_id": thread_message_id,
        },
        now=now,
    )


def delete_file(session: Session, *, interview_id: int, file_id: str, now: datetime) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.FILE_DELETE,
        payload={"file_id": file_id},
        now=now,
    )


def clear_thread(
    session: Session, *, interview_id: int, review_post_id: int, now: datetime
) -> None:
    """Delete every reply (and file) the bot posted under the candidate's card."""
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_CLEAR,
        payload={"review_post_id": review_post_id},
        now=now,
    )


def delete_copy(
    session: Session,
    *,
    interview_id: int,
    channel: str,
    message_id: str | None,
    file_id: str | None,
    now: datetime,
) -> None:
    """Delete a message or file shared outside the thread (see ``SharedCopy``)."""
    outbox.enqueue(
        session,
        ordering_key=f"erase:{interview_id}",
        kind=Kind.COPY_DELETE,
        payload={"channel": channel, "message_id": message_id, "file_id": file_id},
        now=now,
    )


def privately(session: Session, *, channel: str, user: str, text: str, now: datetime) -> None:
    """Something only ``user`` may see (a blind-review reveal), shown in ``channel``."""
    outbox.enqueue(
        session,
        ordering_key=f"user:{user}",
        kind=Kind.PRIVATE_NOTE,
        payload={"channel": channel, "user": user, "text": text},
        now=now,
    )


def file_to_team_member(
    session: Session,
    *,
    user: str,
    filename: str,
    title: str,
    content: str,
    now: datetime,
    about: Sequence[int] = (),
) -> None:
    """A text file (an export) sent to ``user``'s direct messages with the app.

    ``about``: the interviews whose candidates it lists; delivery records where the file
    landed for each (``SharedCopy``), so erasing one of them deletes the file.
    """
    outbox.enqueue(
        session,
        ordering_key=f"user:{user}",
        kind=Kind.USER_FILE,
        payload={
            "user": user,
            "filename": filename,
            "title": title,
            "content": content,
            "about": list(about),
        },
        now=now,
    )


def to_team_member(
    session: Session, user: str, text: str, now: datetime, about: Sequence[int] = ()
) -> None:
    """A direct message; ``about`` as for ``file_to_team_member`` (a DM naming a candidate)."""
    outbox.enqueue(
        session,
        ordering_key=f"user:{user}",
        kind=Kind.NOTIFY_USER,
        payload={"user": user, "text": text, "about": list(about)},
        now=now,
    )


def _note_json(note: ThreadNote) -> dict[str, object]:
    return {"text": note.text, "key": note.key, "choices": [asdict(c) for c in note.choices]}


def note_from_json(payload: dict[str, object]) -> ThreadNote:
    raw = payload.get("choices") or []
    assert isinstance(raw, list)
    key = payload.get("key")
    return ThreadNote(
        text=str(payload["text"]),
        choices=tuple(Choice(**c) for c in raw),
        key=str(key) if key else None,
    )


def card_json(card: CandidateCard) -> dict[str, object]:
    data = asdict(card)
    data["deadline"] = card.deadline.isoformat()
    return data


def card_from_json(data: dict[str, object]) -> CandidateCard:
    values = dict(data)
    values["deadline"] = datetime.fromisoformat(str(values["deadline"]))
    if "rubric" in values:
        values["rubric"] = tuple(values["rubric"])  # type: ignore[arg-type]
    return CandidateCard(**values)  # type: ignore[arg-type]
