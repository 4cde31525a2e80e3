"""Hiring stages and the recruiter's decisions: advance or reject. The candidate always hears."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, InvalidRequest, NotFound
from bot.flows import decision_texts, escaping, review
from bot.flows.decision_texts import render, tell
from bot.flows.lifecycle import ACTIVE
from bot.flows.moments import format_deadline
from storage import interviews
from storage.models import Candidate, Decision, Interview, Opening

STAGES: tuple[str, ...] = ("Async interview", "Live interview", "Offer", "Hired")
REJECTED = "Rejected"


@dataclass(frozen=True)
class RejectionDraft:
    """What the reject form starts with: who, and the message they would get."""

    interview_id: int
    candidate: str
    opening: str
    message: str
    reachable: bool  # False: they never opened the invitation, so Telegram cannot reach them


def find_interview(session: Session, who: str) -> Interview:
    """The interview a recruiter means by a candidate's name, or ``#id`` when names clash."""
    number = interview_number(who)
    if number is not None:
        interview = interviews.locked(session, number)
        if interview is None:
            raise NotFound(f"There is no interview #{number}.")
        return interview
    found = one_named(who, candidates_named(session, who))
    assert found.id is not None
    locked = interviews.locked(session, found.id)
    assert locked is not None
    return locked


def interview_number(who: str) -> int | None:
    """The ``N`` of ``#N`` or ``Candidate #N``; None when ``who`` is a name."""
    number = who.strip().lower().removeprefix("candidate").strip()
    return int(number[1:]) if number.startswith("#") and number[1:].isdigit() else None


def candidates_named(session: Session, who: str) -> list[tuple[Interview, Candidate, Opening]]:
    """Every interview of a candidate called ``who`` (any case), oldest first."""
    rows = session.exec(
        select(Interview, Candidate, Opening)
        .join(Candidate, col(Candidate.id) == Interview.candidate_id)
        .join(Opening, col(Opening.id) == Interview.opening_id)
        .where(func.lower(Candidate.name) == who.strip().lower())
        .order_by(col(Interview.id))
    ).all()
    return [(i, c, o) for i, c, o in rows]


def one_named(who: str, rows: list[tuple[Interview, Candidate, Opening]]) -> Interview:
    """The one interview ``rows`` hold, or the sentence that asks for a ``#number``."""
    if not rows:
        raise NotFound(f"I can't find a candidate called '{escaping.mrkdwn(who.strip())}'.")
    if len(rows) > 1:
        listing = "; ".join(
            f"#{i.id} {escaping.mrkdwn(c.name)} ({escaping.mrkdwn(o.title)}, {i.stage})"
            for i, c, o in rows
        )
        raise NotFound(
            f"Several candidates are called '{escaping.mrkdwn(who.strip())}': {listing}. "
            "Use the #number."
        )
    return rows[0][0]


def advance(session: Session, *, who: str, by: str, now: datetime, stage: str | None = None) -> str:
    """Move the candidate to the next (or the named) stage; returns a line for the recruiter."""
    interview = find_interview(session, who)
    if interview.stage == REJECTED:
        raise IllegalTransition("This candidate was rejected; they cannot be advanced.")
    target = _next_stage(interview.stage, stage)
    interview.stage = target
    interview.decided_at = now
    record_decision(session, interview, "advance", by, now, stage=target)
    message = decision_texts.render(session, interview, "advanced", stage=target)
    told = decision_texts.tell(session, interview, message, now)
    review.note_in_thread(
        session, interview, f"➡️ <@{by}> advanced the candidate to *{target}*.", now
    )
    review.refresh_card(session, interview, now)
    return summary(session, interview, f"advanced to {target}", told)


def rejection_draft(session: Session, who: str) -> RejectionDraft:
    """Check a rejection is possible and prepare the message the recruiter will edit."""
    interview = find_interview(session, who)
    if interview.stage == REJECTED:
        raise IllegalTransition("This candidate was already rejected.")
    candidate = session.get_one(Candidate, interview.candidate_id)
    opening = session.get_one(Opening, interview.opening_id)
    assert interview.id is not None
    return RejectionDraft(
        interview_id=interview.id,
        candidate=candidate.name,
        opening=opening.title,
        message=decision_texts.render(session, interview, "rejected"),
        reachable=candidate.telegram_chat_id is not None,
    )


def reject(
    session: Session,
    *,
    who: str,
    by: str,
    now: datetime,
    reason: str = "",
    message: str | None = None,
) -> str:
    """Reject; the candidate gets ``message`` (the opening's template when None)."""
    interview = find_interview(session, who)
    if interview.stage == REJECTED:
        raise IllegalTransition("This candidate was already rejected.")
    if message is not None and not message.strip():
        raise InvalidRequest("The message to the candidate can't be empty: they always hear.")
    interview.stage = REJECTED
    interview.decided_at = now
    record_decision(session, interview, "reject", by, now, reason=reason.strip() or None)
    text = message.strip() if message else decision_texts.render(session, interview, "rejected")
    told = decision_texts.tell(session, interview, text, now)
    why = f" Reason: {escaping.mrkdwn(reason.strip())}" if reason.strip() else ""
    review.note_in_thread(session, interview, f"⏹️ <@{by}> rejected the candidate.{why}", now)
    review.refresh_card(session, interview, now)
    return summary(session, interview, "rejected", told)


def record_decision(
    session: Session,
    interview: Interview,
    kind: str,
    by: str,
    now: datetime,
    *,
    stage: str | None = None,
    reason: str | None = None,
) -> None:
    assert interview.id is not None
    session.add(
        Decision(
            interview_id=interview.id,
            kind=kind,
            stage=stage,
            reason=reason,
            by=by,
            created_at=now,
        )
    )


def _next_stage(current: str, requested: str | None) -> str:
    if requested:
        for name in STAGES:
            if name.lower() == requested.strip().lower():
                return name
        raise NotFound(
            f"Unknown stage '{escaping.mrkdwn(requested)}'. Stages: {', '.join(STAGES)}."
        )
    index = STAGES.index(current) if current in STAGES else 0
    if index + 1 >= len(STAGES):
        raise IllegalTransition(f"The candidate is already at the last stage ({current}).")
    return STAGES[index + 1]


def summary(session: Session, interview: Interview, what: str, told: bool) -> str:
    name = escaping.mrkdwn(session.get_one(Candidate, interview.candidate_id).name)
    tail = (
        "They've been told on Telegram."
        if told
        else "They haven't opened their invitation yet, so they could not be told on Telegram."
    )
    return f"{name} {escaping.mrkdwn(what)}. {tail}"


def remind(session: Session, *, who: str, now: datetime) -> str:
    """A recruiter's nudge, sent now on Telegram; returns the line for the recruiter."""
    found = find_interview(session, who)
    name = escaping.mrkdwn(session.get_one(Candidate, found.candidate_id).name)
    if found.status not in ACTIVE:
        raise InvalidRequest(
            f"{name}'s interview is {found.status.replace('_', ' ')}: "
            "there is nothing to remind them of."
        )
    deadline = format_deadline(found.deadline_at)
    message = render(session, found, "team_reminder", deadline=found.deadline_at)
    if not tell(session, found, message, now):
        return (
            f"{name} hasn't opened their invitation yet, so Telegram can't "
            "reach them. Send them the link again (or `/hire invite` a fresh one)."
        )
    return f"Reminded {name} on Telegram (deadline {deadline})."
