"""One candidate's conversation: their interview, opening and language, and how to talk to them.

Every candidate-facing flow starts by loading a Conversation, so reading the catalogue,
formatting times in the candidate's time zone and writing to the outbox happen one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.flows import buttons, outgoing, texts
from bot.flows.lifecycle import STARTED
from bot.flows.moments import known_zone
from bot.flows.ports import Choice
from storage import interviews
from storage.models import (
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    QuestionPhase,
)

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass
class Conversation:
    session: Session
    interview: Interview
    candidate: Candidate
    opening: Opening
    now: datetime
    _questions: list[Question] | None = field(default=None, repr=False)

    @property
    def language(self) -> str:
        return texts.language_for(self.candidate.language)

    @property
    def chat_id(self) -> int:
        assert self.candidate.telegram_chat_id is not None
        return self.candidate.telegram_chat_id

    @property
    def interview_id(self) -> int:
        assert self.interview.id is not None
        return self.interview.id

    @property
    def questions(self) -> list[Question]:
        if self._questions is None:
            self._questions = list(
                self.session.exec(
                    select(Question)
                    .where(Question.opening_id == self.opening.id)
                    .order_by(col(Question.position))
                ).all()
            )
        return self._questions

    def text(self, key: str, **values: object) -> str:
        return texts.text(self.language, key, **values)

    def say(self, key: str, choices: list[list[Choice]] | None = None, /, **values: object) -> None:
        outgoing.to_candidate(
            self.session, self.chat_id, self.text(key, **values), self.now, choices
        )

    def choice(self, label: str, button: buttons.CandidateButton) -> Choice:
        """``button``, made to act on this interview only (see ``bot.flows.buttons``)."""
        return Choice(label, replace(button, interview_id=self.interview_id).pack())

    def timezone(self) -> ZoneInfo:
        return candidate_zone(self.candidate, self.opening)

    def when(self, moment: datetime) -> str:
        """A moment as the candidate reads it: their language, their time zone."""
        return texts.moment(self.language, moment, self.timezone())

    def day(self, moment: datetime) -> str:
        """The date alone, as the candidate reads it."""
        return texts.day(self.language, moment, self.timezone())

    def deadline(self) -> str:
        return self.when(self.interview.deadline_at)


def candidate_zone(candidate: Candidate, opening: Opening) -> ZoneInfo:
    """The candidate's own time zone (``/timezone``), else the opening's."""
    return zone(candidate.timezone or opening.timezone)


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or UTC when the name is unknown."""
    return known_zone(name or "UTC") or ZoneInfo("UTC")


def of_interview(session: Session, interview: Interview, now: datetime) -> Conversation:
    """The candidate's conversation; the interview row stays locked until commit."""
    assert interview.id is not None
    current = interviews.locked(session, interview.id)
    assert current is not None  # interviews are never deleted, only withdrawn
    interview = current
    return Conversation(
        session,
        interview,
        session.get_one(Candidate, interview.candidate_id),
        session.get_one(Opening, interview.opening_id),
        now,
    )


def of_telegram_user(session: Session, user_id: int, now: datetime) -> Conversation | None:
    """The interview the Telegram user is busy with, if they have one.

    A person may hold several (two openings, a re-invitation). What they send without a
    button goes to the one waiting for their recording, else the one waiting for them to
    submit a take, else one in progress, else the newest.
    """
    rows = telegram_interviews(session, user_id)
    return of_interview(session, max(rows, key=_busy_first), now) if rows else None


def telegram_interviews(session: Session, user_id: int) -> list[Interview]:
    """Every interview bound to this Telegram account."""
    return list(
        session.exec(
            select(Interview)
            .join(Candidate, col(Candidate.id) == Interview.candidate_id)
            .where(Candidate.telegram_user_id == user_id)
        ).all()
    )


def _busy_first(interview: Interview) -> tuple[bool, bool, datetime, bool, datetime, int]:
    answering = interview.status == InterviewStatus.ANSWERING
    recording = answering and interview.phase == QuestionPhase.ANSWERING
    reviewing = answering and interview.phase == QuestionPhase.REVIEWING
    in_progress = interview.status in STARTED
    shown = (interview.question_shown_at or _LONG_AGO) if recording else _LONG_AGO
    return (recording, reviewing, shown, in_progress, interview.created_at, interview.id or 0)
