"""Retention (issue 12): a candidate's data goes by itself once the opening's time is up.

When an interview's clock starts: at its final decision (``decided_at``, stage Rejected or
Hired); for an interview that ended without one (declined or expired, still at the async
stage), at its deadline: an expiry happens then, and a decline comes before it, so a declined
candidate is kept at least as long, never less. An interview still in the pipeline (answering,
awaiting review, at the live interview or the offer) has no clock at all.

How long: the opening's ``retention_days``, capped by HIREBOT_RETENTION_MAX_DAYS.

A recruiter's preview (``/hire preview``, bot.flows.preview) is no candidate: its clock starts
when it was made, whatever its state, and it goes after PreviewLimit.KEPT_HOURS.

Erasure is the one ``/hire erase`` and ``/delete_my_data`` use, and it covers the person
(every interview sharing their Telegram account or email). So a person is erased only when
every one of their interviews has expired: one still open (a re-application) keeps them,
and the newest clock counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, col, or_, select

from bot.flows import erasure
from bot.limits import PreviewLimit
from storage import interviews
from storage.models import Interview, InterviewStatus, Opening, Stage

FINAL_STAGES = (Stage.REJECTED, Stage.HIRED)
ENDED_WITHOUT_DECISION = (InterviewStatus.DECLINED, InterviewStatus.EXPIRED)
PREVIEW_KEPT = timedelta(hours=PreviewLimit.KEPT_HOURS)
# How many interview ids one look returns: the periodic tick erases a few of them each time.
LOOK_AHEAD = 500
# Erasures per periodic tick, each its own transaction: a backlog (retention just switched
# on, or lowered) drains over a few minutes without holding up reminders and deliveries.
ERASE_PER_TICK = 20


@dataclass(frozen=True)
class Expired:
    """An interview past its retention: ids, dates and counts only (no names)."""

    interview_id: int
    opening_slug: str
    # "decided", "ended" for an interview that ended without a decision, or "preview"
    basis: str
    since: datetime  # the decision, or the deadline of an interview that ended without one
    kept_days: int  # the retention that applied: the opening's, capped by the ceiling
    days: int  # whole days from ``since`` to now

    @property
    def line(self) -> str:
        """One line for ``hirebot purge``: no name, nothing typed or said."""
        return (
            f"#{self.interview_id}  {self.opening_slug}  {self.basis} "
            f"{self.since.date().isoformat()}  kept {self.days} days "
            f"(retention {self.kept_days})"
        )


def kept_days(opening: Opening, ceiling: int) -> int:
    return max(1, min(opening.retention_days, ceiling))


def clock_start(interview: Interview) -> datetime | None:
    """When the interview's retention began, None while it is still in the pipeline."""
    if interview.status == InterviewStatus.WITHDRAWN:
        return None
    if interview.preview:
        return interview.created_at
    if interview.stage in FINAL_STAGES and interview.decided_at is not None:
        return interview.decided_at
    if interview.status in ENDED_WITHOUT_DECISION and interview.stage == Stage.ASYNC_INTERVIEW:
        return interview.deadline_at
    return None


def _expired_where(openings: list[Opening], now: datetime, ceiling: int) -> ColumnElement[bool]:
    """The SQL twin of ``clock_start`` older than each opening's retention."""
    per_opening = [
        and_(col(Interview.preview).is_(True), col(Interview.created_at) <= now - PREVIEW_KEPT)
    ]
    for opening in openings:
        cutoff = now - timedelta(days=kept_days(opening, ceiling))
        per_opening.append(
            and_(
                col(Interview.opening_id) == opening.id,
                or_(
                    and_(
                        col(Interview.stage).in_(FINAL_STAGES),
                        col(Interview.decided_at) <= cutoff,
                    ),
                    and_(
                        col(Interview.status).in_(ENDED_WITHOUT_DECISION),
                        col(Interview.stage) == Stage.ASYNC_INTERVIEW,
                        col(Interview.deadline_at) <= cutoff,
                    ),
                ),
            )
        )
    return or_(*per_opening)


def due(session: Session, now: datetime, ceiling: int, limit: int = LOOK_AHEAD) -> list[Expired]:
    """Interviews past their retention, oldest id first: one query (openings are few)."""
    openings = {o.id: o for o in session.exec(select(Opening)).all()}
    if not openings:
        return []
    found = session.exec(
        select(Interview)
        .where(col(Interview.status) != InterviewStatus.WITHDRAWN)
        .where(_expired_where(list(openings.values()), now, ceiling))
        .order_by(col(Interview.id))
        .limit(limit)
    ).all()
    return [_expired(each, openings[each.opening_id], now, ceiling) for each in found]


def _expired(interview: Interview, opening: Opening, now: datetime, ceiling: int) -> Expired:
    since = clock_start(interview)
    assert interview.id is not None and since is not None
    decided = interview.stage in FINAL_STAGES and interview.decided_at is not None
    return Expired(
        interview_id=interview.id,
        basis="preview" if interview.preview else "decided" if decided else "ended",
        opening_slug=opening.slug,
        since=since,
        kept_days=1 if interview.preview else kept_days(opening, ceiling),
        days=(now - since).days,
    )


def is_expired(session: Session, interview: Interview, now: datetime, ceiling: int) -> bool:
    since = clock_start(interview)
    if since is None:
        return False
    if interview.preview:
        return since <= now - PREVIEW_KEPT
    opening = session.get_one(Opening, interview.opening_id)
    return since <= now - timedelta(days=kept_days(opening, ceiling))


def erase_expired(
    session: Session, interview_id: int, now: datetime, ceiling: int
) -> Expired | None:
    """Erase the interview's person if it (and every other interview of theirs) expired.

    Under the interview's row lock, as ``/hire erase`` takes it: a second process (or a
    rerun) finds it withdrawn and does nothing; None when nothing was erased.
    """
    interview = interviews.locked(session, interview_id)
    if interview is None or not is_expired(session, interview, now, ceiling):
        return None
    person = erasure.person_of(session, interview)
    if not all(is_expired(session, other, now, ceiling) for other in person):
        return None  # another interview of theirs is still open, or kept longer
    opening = session.get_one(Opening, interview.opening_id)
    expired = _expired(interview, opening, now, ceiling)
    erasure.erase_person(
        session,
        interview,
        by="hirebot",
        now=now,
        why=(
            f"🗑️ This preview is {PreviewLimit.KEPT_HOURS} hours old: its recordings and "
            "transcripts are deleted."
            if interview.preview
            else f"🗑️ Erased after {expired.kept_days} days of retention: the candidate's "
            "recordings, transcripts and details are gone."
        ),
    )
    return expired


def eraser(interview_id: int, ceiling: int) -> Callable[[Session, datetime], Expired | None]:
    """``erase_expired`` for one interview, as a unit of work runs it (its own transaction)."""

    def work(session: Session, now: datetime) -> Expired | None:
        return erase_expired(session, interview_id, now, ceiling)

    return work
