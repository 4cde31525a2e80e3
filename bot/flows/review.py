"""The hiring team's side of an interview: the candidate card, answers in its thread, votes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, func, select

from bot.errors import NotFound
from bot.flows import say
from bot.flows.ports import CandidateCard, Transcript
from storage.models import (
    Answer,
    Candidate,
    Interview,
    Opening,
    Question,
    ReviewPost,
    TranscriptStatus,
    Vote,
)


class VoteChoice(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


def card(session: Session, interview: Interview) -> CandidateCard:
    opening = session.get_one(Opening, interview.opening_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    questions = session.exec(
        select(func.count()).select_from(Question).where(Question.opening_id == opening.id)
    ).one()
    answered = session.exec(
        select(func.count())
        .select_from(Answer)
        .where(Answer.interview_id == interview.id)
        .where(col(Answer.submitted).is_(True))
    ).one()
    votes = session.exec(select(Vote.choice).where(Vote.interview_id == interview.id)).all()
    tally = {choice.value: sum(1 for v in votes if v == choice) for choice in VoteChoice}
    assert interview.id is not None
    return CandidateCard(
        interview_id=interview.id,
        candidate=candidate.name,
        opening=opening.title,
        answered=answered,
        questions=questions,
        status=interview.status,
        stage=interview.stage,
        deadline=interview.deadline_at,
        tally=tally,
    )


def review_post(session: Session, interview_id: int) -> ReviewPost:
    post = session.exec(select(ReviewPost).where(ReviewPost.interview_id == interview_id)).first()
    if post is None:
        raise NotFound(f"Interview {interview_id} has no review post.")
    return post


def open_review(session: Session, interview: Interview, now: datetime) -> None:
    """Create the candidate's parent message in the opening's review channel."""
    opening = session.get_one(Opening, interview.opening_id)
    assert interview.id is not None
    post = ReviewPost(interview_id=interview.id, channel=opening.review_channel, created_at=now)
    session.add(post)
    session.flush()
    assert post.id is not None
    say.post_card(session, post.id, card(session, interview), now)


def refresh_card(session: Session, interview: Interview, now: datetime) -> None:
    assert interview.id is not None
    post = review_post(session, interview.id)
    assert post.id is not None
    say.update_card(session, post.id, card(session, interview), now)


def note_in_thread(session: Session, interview: Interview, text: str, now: datetime) -> None:
    assert interview.id is not None
    post = review_post(session, interview.id)
    assert post.id is not None
    say.to_thread(session, interview_id=interview.id, review_post_id=post.id, text=text, now=now)


def record_posted(session: Session, review_post_id: int, message_id: str) -> None:
    """The parent message exists in Slack: thread replies and updates can now find it."""
    post = session.get_one(ReviewPost, review_post_id)
    post.message_id = message_id


def vote(
    session: Session, *, interview_id: int, reviewer: str, choice: VoteChoice, now: datetime
) -> None:
    """One vote per reviewer per interview; voting again changes it."""
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise NotFound("That interview no longer exists.")
    existing = session.exec(
        select(Vote).where(Vote.interview_id == interview_id).where(Vote.reviewer == reviewer)
    ).first()
    if existing is None:
        session.add(
            Vote(
                interview_id=interview_id,
                reviewer=reviewer,
                choice=choice,
                created_at=now,
                updated_at=now,
            )
        )
    elif existing.choice == choice:
        return
    else:
        existing.choice = choice
        existing.updated_at = now
    session.flush()
    refresh_card(session, interview, now)


def answer_transcribed(
    session: Session,
    answer_id: int,
    transcript: Transcript | None,
    error: str | None,
    now: datetime,
) -> None:
    """Post a submitted answer in the candidate's thread, with its transcript and media."""
    answer = session.get_one(Answer, answer_id)
    if transcript is not None:
        answer.transcript_status = TranscriptStatus.DONE
        answer.transcript_text = transcript.text
        answer.transcript_language = transcript.language
        answer.transcript_low_confidence = transcript.low_confidence
        answer.duration_seconds = transcript.duration_seconds
    else:
        answer.transcript_status = TranscriptStatus.FAILED
        answer.transcript_error = (error or "unknown error")[:500]
    answer.transcript_locked_until = None
    interview = session.get_one(Interview, answer.interview_id)
    question = session.get_one(Question, answer.question_id)
    assert interview.id is not None
    post = review_post(session, interview.id)
    assert post.id is not None
    say.to_thread(
        session,
        interview_id=interview.id,
        review_post_id=post.id,
        text=_answer_text(answer, question),
        media_path=answer.media_path,
        media_title=f"Q{question.position + 1} answer",
        now=now,
    )
    if interview.completed_at is not None and not _transcripts_outstanding(session, interview):
        note_in_thread(session, interview, "✅ Interview completed: all answers are in.", now)


def _transcripts_outstanding(session: Session, interview: Interview) -> bool:
    return (
        session.exec(
            select(Answer.id)
            .where(Answer.interview_id == interview.id)
            .where(Answer.transcript_status == TranscriptStatus.PENDING)
        ).first()
        is not None
    )


def _answer_text(answer: Answer, question: Question) -> str:
    seconds = answer.duration_seconds or answer.telegram_duration or 0
    facts = [answer.media_kind.replace("_", " "), f"{seconds:.0f} s", f"take {answer.take}"]
    if answer.prep_seconds_used is not None:
        facts.append(f"prep {answer.prep_seconds_used:.0f} s")
    lines = [f"*Q{question.position + 1}. {question.text}*", " · ".join(facts)]
    flags = []
    if answer.over_limit:
        flags.append(f"⚠️ over the time limit ({seconds:.0f} s of {question.answer_seconds} s)")
    if answer.late:
        flags.append(f"⏱️ took longer than the {question.prep_seconds} s preparation time")
    lines += flags
    if answer.transcript_status == TranscriptStatus.DONE:
        flag = " _(low confidence: listen to check)_" if answer.transcript_low_confidence else ""
        lines.append(f"> {answer.transcript_text or '(no speech heard)'}{flag}")
    else:
        lines.append("_Transcript unavailable: please listen to the recording._")
    return "\n".join(lines)
