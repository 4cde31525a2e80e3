"""Erasure: a candidate's recordings, transcripts, answers and personal details, gone.

What stays is what the hiring process needs to stay honest without identifying anyone: the
interview row (status withdrawn, timestamps for stats) and reviewers' votes. The review
thread is told the candidate withdrew, and the card loses the name.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.flows import escaping, review, say
from bot.flows.lifecycle import Event, move
from bot.flows.pipeline import find_interview
from bot.flows.say import Kind
from storage import answer_media
from storage.models import Answer, Candidate, Comment, Interview, OutboxMessage, OutboxStatus


def erase_interview(session: Session, *, interview_id: int, by: str, now: datetime) -> list[str]:
    """Erase one interview's personal data; its media files are deleted after commit.

    ``by`` names who asked ("the candidate", or a Slack mention of the recruiter). Returns
    the media files that go (the caller need not delete them: Services does after commit).
    """
    interview = session.get_one(Interview, interview_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    answers = session.exec(select(Answer).where(Answer.interview_id == interview_id)).all()
    media = [a.media_path for a in answers if a.media_path]
    for answer in answers:
        session.delete(answer)
    session.execute(delete(Comment).where(col(Comment.interview_id) == interview_id))
    _forget_messages(session, interview_id, candidate.telegram_chat_id)
    review.erase_thread(session, interview, now)  # transcripts and recordings already in Slack
    move(interview, Event.ERASE)
    candidate.name = f"Withdrawn candidate #{interview_id}"
    candidate.email = None
    candidate.telegram_user_id = None
    candidate.telegram_chat_id = None
    candidate.timezone = None
    candidate.erased_at = now
    session.flush()
    _redact_pending_card(session, interview)
    review.note_in_thread(
        session,
        interview,
        f"🗑️ The candidate withdrew; their recordings, transcripts and details were erased "
        f"at the request of {by}.",
        now,
    )
    review.refresh_card(session, interview, now)
    for path in media:
        answer_media.discard_if_unused(session, path)
    return media


def _forget_messages(session: Session, interview_id: int, chat_id: int | None) -> None:
    """Drop outbox rows that carry the candidate's words or our messages to them.

    Delivered rows are history we no longer need; undelivered ones would re-post an erased
    answer. Card posts and updates stay: the card must still turn into "withdrawn".
    """
    keys = [f"review:{interview_id}"] + ([f"tg:{chat_id}"] if chat_id is not None else [])
    rows = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.ordering_key).in_(keys))
    ).all()
    for row in rows:
        # A pending card post stays (the parent message must exist); it is redacted below.
        if row.status == OutboxStatus.SENT or row.kind != Kind.CARD_POST:
            session.delete(row)


def _redact_pending_card(session: Session, interview: Interview) -> None:
    """A card post not delivered yet goes out showing the withdrawn card, not the name."""
    assert interview.id is not None
    current = say.card_json(review.card(session, interview))
    for row in session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.ordering_key == f"review:{interview.id}")
        .where(OutboxMessage.kind == Kind.CARD_POST)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    ).all():
        row.payload = {**row.payload, "card": current}


def erase_for_recruiter(
    session: Session, *, who: str, confirmed: bool, by: str, now: datetime
) -> str:
    """``/hire erase``: first says what will go, then (confirmed) erases; a line for them."""
    found = find_interview(session, who)
    name = escaping.mrkdwn(session.get_one(Candidate, found.candidate_id).name)
    if not confirmed:
        return (
            f"This deletes {name}'s recordings, transcripts, answers and details for "
            f"good, here and in Slack. To go ahead: `/hire erase #{found.id} confirm`"
        )
    assert found.id is not None
    # Services deletes the media files once this transaction has committed.
    erase_interview(session, interview_id=found.id, by=f"<@{by}>", now=now)
    return f"Erased {name}'s recordings, transcripts and details (#{found.id})."
