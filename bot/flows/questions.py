"""Questions back: a candidate asks the hiring team something from Telegram (issue 11).

``/ask <question>`` sends it at once; a message typed while no answer is awaited is offered
("Send this to the hiring team?") and sent on yes. It appears in the candidate's review thread
with a "Reply to candidate" button (the reply goes through ``bot.flows.relay``). A candidate
may ask ``RelayLimit.QUESTIONS_PER_DAY`` questions a day, each at most
``RelayLimit.QUESTION_CHARS`` long, and is told so: nobody can flood a review thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from bot.flows import audit, buttons, review, threads
from bot.flows.buttons import Confirm, ReplyToCandidate, SendQuestion
from bot.flows.conversation import Conversation
from bot.flows.moments import in_readers_zone
from bot.flows.ports import Choice
from bot.limits import RelayLimit
from storage.models import CandidateQuestion, InterviewStatus, QuestionPhase, QuestionStatus

_DAY = timedelta(days=1)


def may_ask(conv: Conversation, *, typed: bool) -> bool:
    """Whether the candidate may ask now: once they agreed to take part, not after erasure.

    ``typed``: a message without ``/ask``, which is an answer while an answer step waits
    (a question is shown, or a take waits for Submit) and a question only outside one.
    """
    status, phase = conv.interview.status, conv.interview.phase
    if status in (InterviewStatus.COMPLETED, InterviewStatus.EXPIRED):
        return True
    if status != InterviewStatus.ANSWERING:
        return False
    return not typed or phase == QuestionPhase.INTRO


def ask(conv: Conversation, text: str) -> None:
    """``/ask <question>``: straight to the team (the command says what it does)."""
    said = text.strip()
    if not said:
        conv.say("ask.how")
        return
    if _refused(conv, said):
        return
    question = _new(conv, said, QuestionStatus.ASKED)
    _post(conv, question)


def offer(conv: Conversation, text: str) -> None:
    """A message typed outside an answer step: ask whether it is for the hiring team."""
    said = text.strip()
    if not said or _refused(conv, said):
        return
    question = _new(conv, said, QuestionStatus.DRAFT)
    assert question.id is not None
    yes = conv.choice(conv.text("ask.yes"), SendQuestion(Confirm.YES, question.id))
    no = conv.choice(conv.text("ask.no"), SendQuestion(Confirm.NO, question.id))
    conv.say("ask.confirm", [[yes, no]])


def answer_offer(conv: Conversation, question_id: int, send: bool) -> None:
    """The candidate's yes or no to "Send this to the hiring team?"."""
    question = conv.session.get(CandidateQuestion, question_id)
    if (
        question is None
        or question.interview_id != conv.interview_id
        or question.status != QuestionStatus.DRAFT
    ):
        conv.say("stale_button")
        return
    if not send:
        question.status = QuestionStatus.DROPPED
        question.text = ""  # not sent: not kept
        conv.say("ask.dropped")
        return
    if _over_limit(conv):
        return
    question.status = QuestionStatus.ASKED
    _post(conv, question)


def answered(session: Session, question_id: int, *, by: str, now: datetime) -> None:
    """A recruiter replied: the question's button goes, the thread says who answered."""
    question = session.get(CandidateQuestion, question_id)
    if question is None or question.status != QuestionStatus.ASKED:
        return
    question.status = QuestionStatus.ANSWERED
    assert question.id is not None
    text = f"{_thread_text(question)}\n↩️ <@{by}> replied."
    threads.edit(session, question.interview_id, _key(question.id), text, now)


def replyable(session: Session, question_id: int) -> int:
    """The interview of a question a recruiter may still reply to (the "Reply" button)."""
    question = session.get(CandidateQuestion, question_id)
    if question is None:
        raise buttons.StaleButton("no such question")
    return question.interview_id


def text_of(session: Session, question_id: int) -> str | None:
    question = session.get(CandidateQuestion, question_id)
    return question.text if question is not None else None


def forget(session: Session, interview_ids: Sequence[int]) -> None:
    """Erasure: every question these candidates asked, sent or not."""
    session.execute(
        delete(CandidateQuestion).where(col(CandidateQuestion.interview_id).in_(interview_ids))
    )


def forget_unsent(session: Session, before: datetime) -> None:
    """Questions typed before ``before`` that the candidate never said to send (or said
    not to): their words are not kept."""
    session.execute(
        delete(CandidateQuestion)
        .where(col(CandidateQuestion.status).in_([QuestionStatus.DRAFT, QuestionStatus.DROPPED]))
        .where(col(CandidateQuestion.created_at) < before)
    )


def texts_of(session: Session, interview_ids: Sequence[int]) -> list[str]:
    return list(
        session.exec(
            select(CandidateQuestion.text).where(
                col(CandidateQuestion.interview_id).in_(interview_ids)
            )
        ).all()
    )


def _refused(conv: Conversation, said: str) -> bool:
    if len(said) > RelayLimit.QUESTION_CHARS:
        conv.say("ask.too_long", limit=int(RelayLimit.QUESTION_CHARS), length=len(said))
        return True
    return _over_limit(conv)


def _over_limit(conv: Conversation) -> bool:
    """Already ``QUESTIONS_PER_DAY`` questions in the last day: say when they may ask again."""
    since = conv.now - _DAY
    asked = conv.session.exec(
        select(func.count(), func.min(CandidateQuestion.asked_at))
        .where(CandidateQuestion.interview_id == conv.interview_id)
        .where(col(CandidateQuestion.asked_at) > since)
    ).one()
    count, first = asked
    if count < RelayLimit.QUESTIONS_PER_DAY:
        return False
    conv.say(
        "ask.limit",
        limit=int(RelayLimit.QUESTIONS_PER_DAY),
        moment=conv.when(first + _DAY if first is not None else conv.now + _DAY),
    )
    return True


def _new(conv: Conversation, said: str, status: QuestionStatus) -> CandidateQuestion:
    question = CandidateQuestion(
        interview_id=conv.interview_id, status=status, text=said, created_at=conv.now
    )
    conv.session.add(question)
    conv.session.flush()
    return question


def _post(conv: Conversation, question: CandidateQuestion) -> None:
    """Into the review thread, with the button that replies; the candidate hears it went."""
    assert question.id is not None
    question.asked_at = conv.now
    audit.about(
        conv.session,
        conv.interview,
        actor=audit.CANDIDATE,
        action=audit.Action.QUESTION_ASKED,
        now=conv.now,
        question=question.id,
    )
    threads.post(
        conv.session,
        conv.interview_id,
        _key(question.id),
        _thread_text(question),
        conv.now,
        choices=(Choice("↩️ Reply to candidate", ReplyToCandidate(question.id).pack()),),
    )
    conv.say("ask.sent")


def _thread_text(question: CandidateQuestion) -> str:
    when = in_readers_zone(question.asked_at or question.created_at)
    return f"❓ The candidate asked the hiring team ({when}):\n{review.quote(question.text)}"


def _key(question_id: int) -> str:
    return f"question:{question_id}"
