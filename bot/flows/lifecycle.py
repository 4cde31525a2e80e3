"""The interview's state machine: states, the events that move it, and nothing else.

An interview's ``status`` and its question ``phase`` change here only (``move``, ``extend``,
``step``): every other module names an event, and an event the tables do not allow raises.
"""

from __future__ import annotations

from enum import StrEnum

from bot.errors import IllegalTransition
from storage.models import Interview, InterviewStatus, QuestionPhase

S = InterviewStatus


class Event(StrEnum):
    START = "start"
    AGREE = "agree"
    DECLINE = "decline"
    FINISH = "finish"
    EXPIRE = "expire"
    EXTEND = "extend"
    ERASE = "erase"


TRANSITIONS: dict[tuple[InterviewStatus, Event], InterviewStatus] = {
    (S.INVITED, Event.START): S.CONSENT_PENDING,
    (S.CONSENT_PENDING, Event.AGREE): S.ANSWERING,
    (S.CONSENT_PENDING, Event.DECLINE): S.DECLINED,
    (S.ANSWERING, Event.FINISH): S.COMPLETED,
    (S.INVITED, Event.EXPIRE): S.EXPIRED,
    (S.CONSENT_PENDING, Event.EXPIRE): S.EXPIRED,
    (S.ANSWERING, Event.EXPIRE): S.EXPIRED,
    # A candidate (or a recruiter on their behalf) may erase their data at any point.
    **{(state, Event.ERASE): S.WITHDRAWN for state in S if state != S.WITHDRAWN},
}

# The candidate has opened the invitation and not finished: a bare /start resumes it.
STARTED = frozenset({S.CONSENT_PENDING, S.ANSWERING})
# The interview can still move forward (its deadline applies, reminders are sent).
ACTIVE = STARTED | {S.INVITED}

# A new deadline keeps an active interview where it is; an expired one resumes where the
# candidate left it, which only its timestamps tell (EXPIRED is reached from three states).
EXTENDABLE = ACTIVE | {S.EXPIRED}


def extend(interview: Interview) -> None:
    """Apply ``Event.EXTEND`` (the deadline itself is the caller's to move)."""
    current = InterviewStatus(interview.status)
    if current not in EXTENDABLE:
        raise IllegalTransition(
            f"An interview that is {current.value} cannot {Event.EXTEND.value}: "
            "only an invited, started or expired one can get more time."
        )
    if current == S.EXPIRED:
        if interview.consented_at is not None:
            interview.status = S.ANSWERING
        elif interview.started_at is not None:
            interview.status = S.CONSENT_PENDING
        else:
            interview.status = S.INVITED


class PhaseEvent(StrEnum):
    READY = "ready"  # the candidate pressed Ready: show the question
    RECORD = "record"  # a take arrived
    RERECORD = "rerecord"
    SUBMIT = "submit"  # the take is final: next question's intro
    PRACTICE_DONE = "practice_done"  # the practice take arrived: question 1's intro
    NOTHING_TO_REVIEW = "nothing_to_review"  # no take to review (cannot happen): ask again


PHASES: dict[tuple[QuestionPhase, PhaseEvent], QuestionPhase] = {
    (QuestionPhase.INTRO, PhaseEvent.READY): QuestionPhase.ANSWERING,
    (QuestionPhase.ANSWERING, PhaseEvent.RECORD): QuestionPhase.REVIEWING,
    (QuestionPhase.REVIEWING, PhaseEvent.RERECORD): QuestionPhase.ANSWERING,
    (QuestionPhase.REVIEWING, PhaseEvent.SUBMIT): QuestionPhase.INTRO,
    (QuestionPhase.ANSWERING, PhaseEvent.PRACTICE_DONE): QuestionPhase.INTRO,
    (QuestionPhase.REVIEWING, PhaseEvent.NOTHING_TO_REVIEW): QuestionPhase.ANSWERING,
}


def step(interview: Interview, event: PhaseEvent) -> None:
    """Move within the current question, or raise IllegalTransition."""
    current = QuestionPhase(interview.phase)
    target = PHASES.get((current, event))
    if target is None:
        raise IllegalTransition(f"A question that is {current.value} cannot {event.value}.")
    interview.phase = target


def move(interview: Interview, event: Event) -> None:
    """Apply ``event`` or raise IllegalTransition naming what was expected."""
    current = InterviewStatus(interview.status)
    target = TRANSITIONS.get((current, event))
    if target is None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s == current) or ["none"]
        raise IllegalTransition(
            f"An interview that is {current.value} cannot {event.value} "
            f"(it can: {', '.join(allowed)})."
        )
    interview.status = target
