"""More time for a candidate: requested from Telegram (``/more_time``), decided in Slack.

A request appears in the candidate's review thread with Approve/Deny buttons; a recruiter's
decision moves the deadline (an expired interview becomes answerable again), edits the
request in place, and the candidate is always told. ``/hire extend`` decides without one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, InvalidRequest, NotFound
from bot.flows import decision_texts, lifecycle, review, threads
from bot.flows.buttons import ExtensionDecision, Verdict
from bot.flows.moments import format_deadline
from bot.flows.pipeline import find_interview, record_decision, summary
from bot.flows.ports import Choice
from bot.limits import ReviewLimit
from storage.models import DecisionKind, ExtensionRequest, ExtensionStatus, Interview


def request_more_time(session: Session, *, interview_id: int, now: datetime) -> bool:
    """The candidate asks for more time: post the request for a recruiter to decide.

    Returns False, changing nothing, while an earlier request still waits for a decision.
    """
    interview = review.existing_interview(session, interview_id)
    if interview.status not in lifecycle.EXTENDABLE:
        raise IllegalTransition("This interview is over; there is nothing to extend.")
    if _pending(session, interview_id) is not None:
        return False
    request = ExtensionRequest(
        interview_id=interview_id, status=ExtensionStatus.PENDING, requested_at=now
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    threads.post(
        session,
        interview_id,
        _key(request.id),
        _request_text(now, interview.deadline_at),
        now,
        choices=_buttons(request.id),
    )
    return True


def decide(
    session: Session,
    *,
    request_id: int,
    approve: bool,
    by: str,
    now: datetime,
    days: int = ReviewLimit.EXTENSION_DEFAULT_DAYS,
) -> str:
    """Approve (moving the deadline ``days`` on) or deny a request; returns a line for Slack."""
    request = session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFound("That extension request no longer exists.")
    # Lock the interview, then read the request again: a second approval (or the deadline
    # tick) waits for the first to commit and then sees it, so only one of them wins.
    interview = review.existing_interview(session, request.interview_id)
    session.refresh(request)
    if request.status != ExtensionStatus.PENDING:
        who = f"<@{request.decided_by}>" if request.decided_by else "someone"
        raise IllegalTransition(f"This request was already {request.status} by {who}.")
    if approve:
        return _extend(session, interview, days=days, by=by, now=now, request=request)
    request.status = ExtensionStatus.DENIED
    request.decided_by = by
    request.decided_at = now
    record_decision(session, interview, DecisionKind.DENY_EXTENSION, by, now)
    message = decision_texts.render(
        session, interview, "extension_denied", deadline=interview.deadline_at
    )
    told = decision_texts.tell(session, interview, message, now)
    _close_request(session, request, f"❌ <@{by}> denied more time.", now)
    return summary(session, interview, "will keep their deadline", told)


def extend(session: Session, *, who: str, days: int, by: str, now: datetime) -> str:
    """``/hire extend <candidate> <days>``; settles a pending request too."""
    interview = find_interview(session, who)
    assert interview.id is not None
    return _extend(
        session, interview, days=days, by=by, now=now, request=_pending(session, interview.id)
    )


def _extend(
    session: Session,
    interview: Interview,
    *,
    days: int,
    by: str,
    now: datetime,
    request: ExtensionRequest | None,
) -> str:
    if not 1 <= days <= ReviewLimit.EXTENSION_MAX_DAYS:
        raise InvalidRequest(f"Extend by 1 to {ReviewLimit.EXTENSION_MAX_DAYS} days.")
    lifecycle.extend(interview)
    interview.deadline_at = max(interview.deadline_at, now) + timedelta(days=days)
    deadline = format_deadline(interview.deadline_at)
    record_decision(session, interview, DecisionKind.EXTEND, by, now, reason=f"+{days} days")
    message = decision_texts.render(
        session, interview, "extension_approved", deadline=interview.deadline_at
    )
    told = decision_texts.tell(session, interview, message, now)
    line = f"⏳ <@{by}> gave {days} more day{'s' if days != 1 else ''}: new deadline {deadline}."
    if request is not None:
        request.status = ExtensionStatus.APPROVED
        request.days = days
        request.decided_by = by
        request.decided_at = now
        _close_request(session, request, line, now)
    else:
        review.note_in_thread(session, interview, line, now)
    review.refresh_card(session, interview, now)
    return summary(session, interview, f"has a new deadline: {deadline}", told)


def _close_request(
    session: Session, request: ExtensionRequest, outcome: str, now: datetime
) -> None:
    """Replace the request's buttons with who decided what."""
    interview = session.get_one(Interview, request.interview_id)
    assert request.id is not None and interview.id is not None
    text = f"{_request_text(request.requested_at, None)}\n{outcome}"
    threads.edit(session, interview.id, _key(request.id), text, request.decided_at or now)


def _pending(session: Session, interview_id: int) -> ExtensionRequest | None:
    return session.exec(
        select(ExtensionRequest)
        .where(ExtensionRequest.interview_id == interview_id)
        .where(ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(col(ExtensionRequest.id))
    ).first()


def _request_text(requested_at: datetime, deadline: datetime | None) -> str:
    text = f"🙋 The candidate asked for more time on {format_deadline(requested_at)}."
    if deadline is not None:
        text += f" Their deadline is {format_deadline(deadline)}."
    return text


def _buttons(request_id: int) -> tuple[Choice, ...]:
    days = ReviewLimit.EXTENSION_DEFAULT_DAYS
    return (
        Choice(f"✅ Approve +{days} days", _button(Verdict.APPROVE, request_id)),
        Choice("❌ Deny", _button(Verdict.DENY, request_id)),
    )


def _button(verdict: Verdict, request_id: int) -> str:
    return ExtensionDecision(verdict, request_id).pack()


def _key(request_id: int) -> str:
    return f"extension:{request_id}"
