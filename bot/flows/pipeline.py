"""Hiring stages and the recruiter's decisions: advance or reject. The candidate always hears."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, NotFound
from bot.flows import review, say, texts
from storage.models import Candidate, Interview, Opening

STAGES: tuple[str, ...] = ("Async interview", "Live interview", "Offer", "Hired")
REJECTED = "Rejected"


def find_interview(session: Session, who: str) -> Interview:
    """The interview a recruiter means by a candidate's name, or ``#id`` when names clash."""
    who = who.strip()
    if who.startswith("#") and who[1:].isdigit():
        interview = session.get(Interview, int(who[1:]))
        if interview is None:
            raise NotFound(f"There is no interview {who}.")
        return interview
    rows = session.exec(
        select(Interview, Candidate, Opening)
        .join(Candidate, col(Candidate.id) == Interview.candidate_id)
        .join(Opening, col(Opening.id) == Interview.opening_id)
        .where(func.lower(Candidate.name) == who.lower())
        .order_by(col(Interview.id))
    ).all()
    if not rows:
        raise NotFound(f"I can't find a candidate called '{who}'.")
    if len(rows) > 1:
        listing = "; ".join(f"#{i.id} {c.name} ({o.title}, {i.stage})" for i, c, o in rows)
        raise NotFound(f"Several candidates are called '{who}': {listing}. Use the #number.")
    return rows[0][0]


def advance(session: Session, *, who: str, by: str, now: datetime, stage: str | None = None) -> str:
    """Move the candidate to the next (or the named) stage; returns a line for the recruiter."""
    interview = find_interview(session, who)
    if interview.stage == REJECTED:
        raise IllegalTransition("This candidate was rejected; they cannot be advanced.")
    target = _next_stage(interview.stage, stage)
    interview.stage = target
    interview.decided_at = now
    told = _tell_candidate(session, interview, "advanced", now, stage=target)
    review.note_in_thread(
        session, interview, f"➡️ <@{by}> advanced the candidate to *{target}*.", now
    )
    review.refresh_card(session, interview, now)
    return _summary(session, interview, f"advanced to {target}", told)


def reject(session: Session, *, who: str, by: str, now: datetime) -> str:
    interview = find_interview(session, who)
    if interview.stage == REJECTED:
        raise IllegalTransition("This candidate was already rejected.")
    interview.stage = REJECTED
    interview.decided_at = now
    told = _tell_candidate(session, interview, "rejected", now)
    review.note_in_thread(session, interview, f"⏹️ <@{by}> rejected the candidate.", now)
    review.refresh_card(session, interview, now)
    return _summary(session, interview, "rejected", told)


def _next_stage(current: str, requested: str | None) -> str:
    if requested:
        for name in STAGES:
            if name.lower() == requested.strip().lower():
                return name
        raise NotFound(f"Unknown stage '{requested}'. Stages: {', '.join(STAGES)}.")
    index = STAGES.index(current) if current in STAGES else 0
    if index + 1 >= len(STAGES):
        raise IllegalTransition(f"The candidate is already at the last stage ({current}).")
    return STAGES[index + 1]


def _tell_candidate(
    session: Session, interview: Interview, key: str, now: datetime, **values: str
) -> bool:
    candidate = session.get_one(Candidate, interview.candidate_id)
    if candidate.telegram_chat_id is None:
        return False
    opening = session.get_one(Opening, interview.opening_id)
    message = texts.text(
        candidate.language, key, name=candidate.name.split()[0], opening=opening.title, **values
    )
    say.to_candidate(session, candidate.telegram_chat_id, message, now)
    return True


def _summary(session: Session, interview: Interview, what: str, told: bool) -> str:
    candidate = session.get_one(Candidate, interview.candidate_id)
    tail = (
        "They've been told on Telegram."
        if told
        else "They haven't opened their invitation yet, so they could not be told on Telegram."
    )
    return f"{candidate.name} {what}. {tail}"
