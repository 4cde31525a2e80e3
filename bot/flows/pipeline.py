"""Hiring stages and the recruiter's decisions: advance or reject. The candidate always hears."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, InvalidRequest, NotFound
from bot.flows import audit, decision_texts, escaping, review, scheduling
from bot.flows.decision_texts import Told, render, tell
from bot.flows.lifecycle import ACTIVE
from bot.flows.moments import format_deadline
from storage import interviews
from storage.models import Candidate, Decision, DecisionKind, Interview, Opening, Stage

# The order ``advance`` follows when no stage is named.
STAGES: tuple[Stage, ...] = (
    Stage.ASYNC_INTERVIEW,
    Stage.LIVE_INTERVIEW,
    Stage.OFFER,
    Stage.HIRED,
)

# Where each decision may take a candidate from each stage: a recruiter may advance to any
# stage of the pipeline (back to an earlier one too, to correct a slip) and reject from any
# of them; a rejected candidate stays rejected.
TRANSITIONS: dict[tuple[Stage, DecisionKind], frozenset[Stage]] = {
    **{(stage, DecisionKind.ADVANCE): frozenset(STAGES) for stage in STAGES},
    **{(stage, DecisionKind.REJECT): frozenset({Stage.REJECTED}) for stage in STAGES},
}

# What a refused decision says, by the stage the candidate is in.
_REFUSED = {
    (Stage.REJECTED, DecisionKind.ADVANCE): "This candidate was rejected; they cannot be advanced.",
    (Stage.REJECTED, DecisionKind.REJECT): "This candidate was already rejected.",
}


def decidable(interview: Interview, decision: DecisionKind) -> Stage:
    """The candidate's stage, if ``decision`` can be taken from it; else IllegalTransition."""
    current = Stage(interview.stage)
    if (current, decision) not in TRANSITIONS:
        raise IllegalTransition(
            _REFUSED.get((current, decision), f"A candidate at {current} cannot {decision}.")
        )
    return current


def change_stage(interview: Interview, decision: DecisionKind, target: Stage) -> None:
    """Move the candidate to ``target`` by ``decision``, or raise IllegalTransition."""
    current = decidable(interview, decision)
    if target not in TRANSITIONS[(current, decision)]:
        raise IllegalTransition(f"A candidate at {current} cannot {decision} to {target}.")
    interview.stage = target


@dataclass(frozen=True)
class RejectionDraft:
    """What the reject form starts with: who, and the message they would get."""

    interview_id: int
    candidate: str
    opening: str
    message: str
    # False: they never opened the invitation and gave no email address: nothing reaches them
    reachable: bool


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
        .where(col(Interview.preview).is_(False))  # a recruiter's preview is no candidate
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
    target = _next_stage(decidable(interview, DecisionKind.ADVANCE), stage)
    change_stage(interview, DecisionKind.ADVANCE, target)
    interview.decided_at = now
    record_decision(session, interview, DecisionKind.ADVANCE, by, now, stage=target)
    message = decision_texts.render(session, interview, "advanced", stage=target)
    told = decision_texts.tell(session, interview, message, now)
    review.note_in_thread(
        session,
        interview,
        f"➡️ <@{by}> advanced the candidate to *{target}*. {told.in_thread()}",
        now,
    )
    review.refresh_card(session, interview, now)
    line = summary(session, interview, f"advanced to {target}", told)
    # An opening that names no interviewers arranges its calls by hand: nothing is offered.
    if target == Stage.LIVE_INTERVIEW and told and scheduling.books_calls(session, interview):
        line += " " + scheduling.offer(session, interview, now)
    return line


def book_call(session: Session, *, who: str, now: datetime) -> str:
    """``/hire book <candidate>`` (or the card's button): offer the live-interview times
    again, e.g. once the interviewers have set their hours."""
    interview = find_interview(session, who)
    if interview.stage != Stage.LIVE_INTERVIEW:
        name = escaping.mrkdwn(session.get_one(Candidate, interview.candidate_id).name)
        raise IllegalTransition(
            f"{name} is at {interview.stage}: advance them to {Stage.LIVE_INTERVIEW} first."
        )
    return scheduling.offer(session, interview, now)


def rejection_draft(session: Session, who: str) -> RejectionDraft:
    """Check a rejection is possible and prepare the message the recruiter will edit."""
    interview = find_interview(session, who)
    decidable(interview, DecisionKind.REJECT)
    candidate = session.get_one(Candidate, interview.candidate_id)
    opening = session.get_one(Opening, interview.opening_id)
    assert interview.id is not None
    return RejectionDraft(
        interview_id=interview.id,
        candidate=candidate.name,
        opening=opening.title,
        message=decision_texts.render(session, interview, "rejected"),
        reachable=candidate.telegram_chat_id is not None or bool(candidate.email),
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
    decidable(interview, DecisionKind.REJECT)
    if message is not None and not message.strip():
        raise InvalidRequest("The message to the candidate can't be empty: they always hear.")
    change_stage(interview, DecisionKind.REJECT, Stage.REJECTED)
    interview.decided_at = now
    scheduling.call_off(session, interview, by, now)
    record_decision(session, interview, DecisionKind.REJECT, by, now, reason=reason.strip() or None)
    text = message.strip() if message else decision_texts.render(session, interview, "rejected")
    told = decision_texts.tell(session, interview, text, now)
    why = f" Reason: {escaping.mrkdwn(reason.strip())}" if reason.strip() else ""
    review.note_in_thread(
        session, interview, f"⏹️ <@{by}> rejected the candidate. {told.in_thread()}{why}", now
    )
    review.refresh_card(session, interview, now)
    return summary(session, interview, "rejected", told)


def record_decision(
    session: Session,
    interview: Interview,
    kind: DecisionKind,
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
    # The kind and the stage: the reason is free text and stays out of the trail.
    audit.about(
        session,
        interview,
        actor=by,
        action=audit.Action.DECIDED,
        now=now,
        decision=kind,
        stage=Stage(interview.stage),
    )


def _next_stage(current: Stage, requested: str | None) -> Stage:
    """The stage a recruiter named (any case), else the one after ``current``."""
    if requested:
        for stage in STAGES:
            if stage.lower() == requested.strip().lower():
                return stage
        raise NotFound(
            f"Unknown stage '{escaping.mrkdwn(requested)}'. Stages: {', '.join(STAGES)}."
        )
    index = STAGES.index(current)
    if index + 1 >= len(STAGES):
        raise IllegalTransition(f"The candidate is already at the last stage ({current}).")
    return STAGES[index + 1]


def summary(session: Session, interview: Interview, what: str, told: Told) -> str:
    name = escaping.mrkdwn(session.get_one(Candidate, interview.candidate_id).name)
    tail = {
        Told.TELEGRAM: "They've been told on Telegram.",
        Told.EMAIL: "They haven't opened their invitation on Telegram, so they've been told by "
        "email.",
        Told.NOBODY: "They haven't opened their invitation yet, so they could not be told on "
        "Telegram, and no email address was given.",
    }[told]
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
    told = tell(session, found, message, now)
    if not told:
        return (
            f"{name} hasn't opened their invitation yet, so Telegram can't "
            "reach them. Send them the link again (or `/hire invite` a fresh one)."
        )
    return f"Reminded {name} {told.value} (deadline {deadline})."
