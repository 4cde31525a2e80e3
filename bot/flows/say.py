"""What flows want said, recorded in the outbox inside the flow's own transaction.

Payloads are plain JSON: the delivery worker (bot.delivery) turns each kind into one call on
a port (CandidateChannel, ReviewChannel) after commit.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot.flows.ports import CandidateCard, Choice
from storage import outbox


class Kind(StrEnum):
    CANDIDATE_TEXT = "candidate.text"
    CARD_POST = "review.card.post"
    CARD_UPDATE = "review.card.update"
    THREAD_POST = "review.thread.post"
    NOTIFY_USER = "review.notify"


def to_candidate(
    session: Session,
    chat_id: int,
    text: str,
    now: datetime,
    choices: list[list[Choice]] | None = None,
) -> None:
    outbox.enqueue(
        session,
        ordering_key=f"tg:{chat_id}",
        kind=Kind.CANDIDATE_TEXT,
        payload={
            "chat_id": chat_id,
            "text": text,
            "choices": [[asdict(c) for c in row] for row in (choices or [])],
        },
        now=now,
    )


def _thread_key(interview_id: int) -> str:
    # One key per review thread: the parent is posted before any reply or update to it.
    return f"review:{interview_id}"


def post_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(card.interview_id),
        kind=Kind.CARD_POST,
        payload={"review_post_id": review_post_id, "card": _card_json(card)},
        now=now,
    )


def update_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(card.interview_id),
        kind=Kind.CARD_UPDATE,
        payload={"review_post_id": review_post_id, "card": _card_json(card)},
        now=now,
    )


def to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    text: str,
    now: datetime,
    media_path: str | None = None,
    media_title: str = "",
) -> None:
    outbox.enqueue(
        session,
        ordering_key=_thread_key(interview_id),
        kind=Kind.THREAD_POST,
        payload={
            "review_post_id": review_post_id,
            "text": text,
            "media_path": media_path,
            "media_title": media_title,
        },
        now=now,
    )


def to_team_member(session: Session, user: str, text: str, now: datetime) -> None:
    outbox.enqueue(
        session,
        ordering_key=f"user:{user}",
        kind=Kind.NOTIFY_USER,
        payload={"user": user, "text": text},
        now=now,
    )


def _card_json(card: CandidateCard) -> dict[str, object]:
    data = asdict(card)
    data["deadline"] = card.deadline.isoformat()
    return data


def card_from_json(data: dict[str, object]) -> CandidateCard:
    values = dict(data)
    values["deadline"] = datetime.fromisoformat(str(values["deadline"]))
    return CandidateCard(**values)  # type: ignore[arg-type]
