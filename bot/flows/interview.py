"""The candidate's interview: invite → start → consent → questions one at a time → completed.

Every function runs inside one transaction and records what the candidate (and the team) must
be told through ``bot.flows.say``; nothing is sent from here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import NotFound
from bot.flows import review, say, texts
from bot.flows.lifecycle import ACTIVE, Event, move
from bot.flows.ports import Choice
from bot.limits import FileLimit, InviteLimit
from storage.media import StoredMedia
from storage.models import (
    Answer,
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    TranscriptStatus,
)

CONSENT_AGREE = "consent:agree"
CONSENT_DECLINE = "consent:decline"


@dataclass(frozen=True)
class Invitation:
    """The result of an invite. ``token`` goes into the deep link and is never stored."""

    interview_id: int
    token: str
    candidate: str
    opening: str
    deadline: datetime


@dataclass(frozen=True)
class TelegramPerson:
    user_id: int
    chat_id: int
    first_name: str
    language_code: str | None


@dataclass(frozen=True)
class ReceivedAnswer:
    kind: str  # voice | video_note | video | audio | text
    media: StoredMedia | None
    text: str | None
    telegram_duration: float | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def format_deadline(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M UTC")


def invite(
    session: Session,
    *,
    opening_slug: str,
    candidate_name: str,
    invited_by: str,
    now: datetime,
    email: str | None = None,
    language: str = "en",
) -> Invitation:
    opening = session.exec(select(Opening).where(Opening.slug == opening_slug)).first()
    if opening is None:
        known = session.exec(select(Opening.slug).order_by(col(Opening.slug))).all()
        listing = (
            ", ".join(known) if known else "none yet — import one with hirebot openings import"
        )
        raise NotFound(f"There is no opening called '{opening_slug}'. Openings: {listing}.")
    if not candidate_name.strip():
        raise NotFound(
            "Please give the candidate's name, e.g. /hire invite backend-engineer Jane Doe"
        )
    candidate = Candidate(
        name=candidate_name.strip(), email=email, language=language, created_at=now
    )
    session.add(candidate)
    session.flush()
    token = secrets.token_urlsafe(InviteLimit.TOKEN_BYTES)
    assert opening.id is not None and candidate.id is not None
    interview = Interview(
        opening_id=opening.id,
        candidate_id=candidate.id,
        token_hash=hash_token(token),
        status=InterviewStatus.INVITED,
        deadline_at=now + timedelta(days=opening.deadline_days),
        invited_by=invited_by,
        created_at=now,
    )
    session.add(interview)
    session.flush()
    review.open_review(session, interview, now)
    assert interview.id is not None
    return Invitation(interview.id, token, candidate.name, opening.title, interview.deadline_at)


def start(session: Session, *, token: str, person: TelegramPerson, now: datetime) -> None:
    """``/start <token>``: bind the invite to this Telegram account and ask for consent."""
    interview = session.exec(
        select(Interview).where(Interview.token_hash == hash_token(token))
    ).first()
    if interview is None:
        say.to_candidate(session, person.chat_id, _t(person, "unknown_invite"), now)
        return
    candidate = session.get_one(Candidate, interview.candidate_id)
    if candidate.telegram_user_id not in (None, person.user_id):
        say.to_candidate(session, person.chat_id, _t(person, "invite_taken"), now)
        say.to_team_member(
            session,
            interview.invited_by,
            f"⚠️ Someone else tried to use {candidate.name}'s invitation link from another "
            "Telegram account. They were refused; the link stays with the first account.",
            now,
        )
        return
    if candidate.telegram_user_id is None:
        candidate.telegram_user_id = person.user_id
        candidate.telegram_chat_id = person.chat_id
        if person.language_code:
            candidate.language = person.language_code.split("-")[0]
    if _expire_if_due(session, interview, candidate, now):
        return
    if interview.status == InterviewStatus.INVITED:
        move(interview, Event.START)
        interview.started_at = now
        _welcome(session, interview, candidate, now)
        review.refresh_card(session, interview, now)
        return
    continue_interview(session, interview, candidate, now, resumed=True)


def message_without_invite(session: Session, *, person: TelegramPerson, now: datetime) -> None:
    """Any other message: continue the candidate's interview, or explain how to start one."""
    found = _interview_of(session, person.user_id)
    if found is None:
        say.to_candidate(session, person.chat_id, _t(person, "no_invite"), now)
        return
    interview, candidate = found
    if _expire_if_due(session, interview, candidate, now):
        return
    continue_interview(session, interview, candidate, now, resumed=True)


def answer_consent(
    session: Session, *, person: TelegramPerson, agreed: bool, now: datetime
) -> None:
    found = _interview_of(session, person.user_id)
    if found is None:
        say.to_candidate(session, person.chat_id, _t(person, "no_invite"), now)
        return
    interview, candidate = found
    if _expire_if_due(session, interview, candidate, now):
        return
    if interview.status != InterviewStatus.CONSENT_PENDING:
        continue_interview(session, interview, candidate, now, resumed=True)
        return
    if not agreed:
        move(interview, Event.DECLINE)
        say.to_candidate(session, person.chat_id, _c(candidate, "declined"), now)
        review.note_in_thread(session, interview, "🚫 The candidate declined to take part.", now)
        review.refresh_card(session, interview, now)
        return
    move(interview, Event.AGREE)
    interview.consented_at = now
    interview.consent_version = texts.CONSENT_VERSION
    _ask_current_question(session, interview, candidate, now)
    review.refresh_card(session, interview, now)


def check_answer(
    session: Session, *, person: TelegramPerson, kind: str, size_bytes: int | None, now: datetime
) -> bool:
    """Before downloading: is an answer of this kind and size expected? If not, say why."""
    found = _interview_of(session, person.user_id)
    if found is None:
        say.to_candidate(session, person.chat_id, _t(person, "no_invite"), now)
        return False
    interview, candidate = found
    if _expire_if_due(session, interview, candidate, now):
        return False
    if interview.status != InterviewStatus.ANSWERING:
        continue_interview(session, interview, candidate, now, resumed=False)
        return False
    question = _current_question(session, interview)
    if kind not in question.answer_types:
        types = texts.list_types(candidate.language, question.answer_types)
        say.to_candidate(session, person.chat_id, _c(candidate, "wrong_type", types=types), now)
        return False
    if size_bytes is not None and size_bytes > FileLimit.TELEGRAM_DOWNLOAD_BYTES:
        limit_mb = FileLimit.TELEGRAM_DOWNLOAD_BYTES // (1024 * 1024)
        say.to_candidate(session, person.chat_id, _c(candidate, "too_big", limit_mb=limit_mb), now)
        return False
    return True


def record_answer(
    session: Session, *, person: TelegramPerson, received: ReceivedAnswer, now: datetime
) -> None:
    """Store the answer (its file is already on disk) and move to the next question."""
    if not check_answer(session, person=person, kind=received.kind, size_bytes=None, now=now):
        return
    found = _interview_of(session, person.user_id)
    assert found is not None
    interview, candidate = found
    question = _current_question(session, interview)
    assert interview.id is not None and question.id is not None
    elapsed = (
        (now - interview.question_shown_at).total_seconds() if interview.question_shown_at else None
    )
    answer = Answer(
        interview_id=interview.id,
        question_id=question.id,
        media_kind=received.kind,
        media_path=received.media.relpath if received.media else None,
        media_sha256=received.media.sha256 if received.media else None,
        media_bytes=received.media.size if received.media else 0,
        text=received.text,
        telegram_duration=received.telegram_duration,
        received_at=now,
        elapsed_seconds=elapsed,
        transcript_status=TranscriptStatus.PENDING if received.media else TranscriptStatus.DONE,
        transcript_text=received.text,
    )
    session.add(answer)
    session.flush()
    seconds = round(received.telegram_duration or 0)
    say.to_candidate(
        session,
        person.chat_id,
        _c(candidate, "received", number=question.position + 1, seconds=seconds),
        now,
    )
    interview.question_index += 1
    if interview.question_index >= _question_count(session, interview):
        move(interview, Event.FINISH)
        interview.completed_at = now
        interview.question_shown_at = None
        total = interview.question_index
        say.to_candidate(session, person.chat_id, _c(candidate, "completed", total=total), now)
    else:
        _ask_current_question(session, interview, candidate, now)
    assert answer.id is not None
    review.answer_submitted(session, answer.id, now)
    review.refresh_card(session, interview, now)


def continue_interview(
    session: Session, interview: Interview, candidate: Candidate, now: datetime, *, resumed: bool
) -> None:
    """Repeat what the candidate should do next, so they always know where they are."""
    status = InterviewStatus(interview.status)
    chat_id = _chat(candidate)
    if status == InterviewStatus.CONSENT_PENDING:
        if resumed:
            _welcome(session, interview, candidate, now)
        else:
            say.to_candidate(session, chat_id, _c(candidate, "consent_first"), now)
    elif status == InterviewStatus.ANSWERING:
        say.to_candidate(session, chat_id, _c(candidate, "resume"), now)
        _ask_current_question(session, interview, candidate, now, reset_clock=False)
    elif status == InterviewStatus.COMPLETED:
        say.to_candidate(session, chat_id, _c(candidate, "already_completed"), now)
    elif status == InterviewStatus.EXPIRED:
        deadline = format_deadline(interview.deadline_at)
        say.to_candidate(session, chat_id, _c(candidate, "invite_expired", deadline=deadline), now)
    else:
        say.to_candidate(session, chat_id, _c(candidate, "not_answering"), now)


def _welcome(session: Session, interview: Interview, candidate: Candidate, now: datetime) -> None:
    opening = session.get_one(Opening, interview.opening_id)
    total = _question_count(session, interview)
    chat_id = _chat(candidate)
    are = f"are {total} questions" if total != 1 else "is 1 question"
    welcome = _c(
        candidate,
        "welcome",
        name=candidate.name.split()[0],
        opening=opening.title,
        company=f" at {opening.company}" if opening.company else "",
        are_questions=are,
        deadline=format_deadline(interview.deadline_at),
    )
    say.to_candidate(session, chat_id, welcome, now)
    choices = [
        [
            Choice(_c(candidate, "consent.agree"), CONSENT_AGREE),
            Choice(_c(candidate, "consent.decline"), CONSENT_DECLINE),
        ]
    ]
    say.to_candidate(session, chat_id, _c(candidate, "consent"), now, choices)


def _ask_current_question(
    session: Session,
    interview: Interview,
    candidate: Candidate,
    now: datetime,
    *,
    reset_clock: bool = True,
) -> None:
    question = _current_question(session, interview)
    if reset_clock or interview.question_shown_at is None:
        interview.question_shown_at = now
    say.to_candidate(
        session,
        _chat(candidate),
        _c(
            candidate,
            "question",
            number=question.position + 1,
            total=_question_count(session, interview),
            text=question.text,
            types=texts.list_types(candidate.language, question.answer_types),
            seconds=question.answer_seconds,
        ),
        now,
    )


def _expire_if_due(
    session: Session, interview: Interview, candidate: Candidate, now: datetime
) -> bool:
    if interview.status in ACTIVE and now >= interview.deadline_at:
        move(interview, Event.EXPIRE)
        review.note_in_thread(session, interview, "⌛ The deadline passed: interview expired.", now)
        review.refresh_card(session, interview, now)
    if interview.status == InterviewStatus.EXPIRED:
        deadline = format_deadline(interview.deadline_at)
        say.to_candidate(
            session, _chat(candidate), _c(candidate, "invite_expired", deadline=deadline), now
        )
        return True
    return False


def _interview_of(session: Session, telegram_user_id: int) -> tuple[Interview, Candidate] | None:
    """The Telegram user's most recent interview."""
    row = session.exec(
        select(Interview, Candidate)
        .join(Candidate, col(Candidate.id) == Interview.candidate_id)
        .where(Candidate.telegram_user_id == telegram_user_id)
        .order_by(col(Interview.created_at).desc(), col(Interview.id).desc())
    ).first()
    return (row[0], row[1]) if row else None


def _current_question(session: Session, interview: Interview) -> Question:
    return session.exec(
        select(Question)
        .where(Question.opening_id == interview.opening_id)
        .where(Question.position == interview.question_index)
    ).one()


def _question_count(session: Session, interview: Interview) -> int:
    return len(
        session.exec(select(Question.id).where(Question.opening_id == interview.opening_id)).all()
    )


def _chat(candidate: Candidate) -> int:
    assert candidate.telegram_chat_id is not None
    return candidate.telegram_chat_id


def _c(candidate: Candidate, key: str, **values: object) -> str:
    return texts.text(candidate.language, key, **values)


def _t(person: TelegramPerson, key: str, **values: object) -> str:
    return texts.text((person.language_code or "en").split("-")[0], key, **values)


Work = Callable[[Session, datetime], object]
