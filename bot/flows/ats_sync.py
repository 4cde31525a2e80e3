"""ATS sync (issue 12): our domain events become steps in the opening's applicant tracking
system, queued in the outbox of the action's own transaction, delivered in order per
candidate (bot.integrations.sync) through the vendor's adapter (bot.integrations.ats).

Hooked into ``bot.flows.audit.record``, the one place every domain event passes. This module
only reads the event and enqueues: no network, and nothing personal in the queued rows (what
the ATS is told is read at delivery, see bot.flows.ats_steps).

| our event            | in the ATS                                                          |
|----------------------|---------------------------------------------------------------------|
| interview.invited    | the candidate found by email (or created), tagged TAG_SENT          |
| interview.completed  | a note: transcripts, timing, the Slack thread; tagged TAG_COMPLETED |
| decision.made        | the mapped stage, or rejected with the reason; a note of the votes  |
| candidate.erased     | our queued steps dropped (the ATS's own record stays: see README)   |
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_
from sqlmodel import Session, col, delete

from bot.flows import outgoing, threads
from storage.models import (
    AtsLink,
    AuditEvent,
    Candidate,
    DecisionKind,
    Interview,
    Opening,
    OutboxMessage,
    OutboxStatus,
    Stage,
)

TAG_SENT = "async interview sent"
TAG_COMPLETED = "async interview completed"
KINDS = ("lever", "greenhouse")


class Step(StrEnum):
    INVITED = "invited"
    COMPLETED = "completed"
    DECIDED = "decided"


class AtsSpec(BaseModel):
    """An opening's ``ats:`` block: which ATS, which job, and how our stages map to its."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    # The vendor's job: a Lever posting id, a Greenhouse job id. New candidates are created
    # on it; inbound stage changes of other jobs are not this opening's.
    job: str = Field(min_length=1, max_length=128)
    # Our stages (Live interview, Offer, Hired) → the vendor's stage ids. A stage left out
    # is not moved in the ATS (the decision's note still goes).
    stages: dict[str, str] = Field(default_factory=dict)
    # The vendor stage that starts an invitation when a candidate is moved to it there.
    invite_stage: str | None = None
    # The vendor's rejection / archive reason id for /hire reject.
    reject_reason: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"ats.kind must be one of {', '.join(KINDS)}")
        return value

    @field_validator("stages")
    @classmethod
    def _our_stages(cls, value: dict[str, str]) -> dict[str, str]:
        ours = {s.value for s in Stage if s != Stage.REJECTED}
        unknown = sorted(set(value) - ours)
        if unknown:
            raise ValueError(
                f"ats.stages maps our stages ({', '.join(sorted(ours))}), not {', '.join(unknown)}"
            )
        return value


def spec_of(opening: Opening) -> AtsSpec | None:
    """The opening's ATS settings, or None when it has none."""
    return AtsSpec.model_validate(opening.ats) if opening.ats else None


def on_event(session: Session, event: AuditEvent) -> None:
    """The ATS steps ``event`` calls for, queued in its transaction (audit.record's hook)."""
    if event.interview_id is None or event.opening_id is None:
        return
    if event.action == "candidate.erased":
        forget(session, event.interview_id, event.at)
        return
    step = _STEPS.get(event.action)
    if step is None or (step == Step.DECIDED and event.detail.get("decision") not in _SYNCED):
        return  # not an event the ATS hears of (an extension of the deadline is ours alone)
    link = session.get(AtsLink, event.interview_id)
    if link is None:
        if step != Step.INVITED:
            return  # an opening without an ATS, or a candidate it could not be matched to
        link = _link(session, event)
        if link is None:
            return
    decided = step == Step.DECIDED
    outgoing.to_ats(
        session,
        interview_id=event.interview_id,
        step=step,
        key=secrets.token_hex(8),
        now=event.at,
        decision=event.detail.get("decision") if decided else None,
        stage=event.detail.get("stage") if decided else None,
    )


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_SYNCED = (DecisionKind.ADVANCE.value, DecisionKind.REJECT.value)
_STEPS = {
    "interview.invited": Step.INVITED,
    "interview.completed": Step.COMPLETED,
    "decision.made": Step.DECIDED,
}


def _link(session: Session, event: AuditEvent) -> AtsLink | None:
    """The new interview's link to the opening's ATS; None when it has none, or when the
    candidate has no email to be found by (the thread says so)."""
    assert event.interview_id is not None and event.opening_id is not None
    spec = spec_of(session.get_one(Opening, event.opening_id))
    if spec is None:
        return None
    interview = session.get_one(Interview, event.interview_id)
    if not session.get_one(Candidate, interview.candidate_id).email:
        post = threads.parent(session, event.interview_id)
        assert post.id is not None
        outgoing.to_thread(
            session,
            interview_id=event.interview_id,
            review_post_id=post.id,
            text=f"ℹ️ Not added to {spec.kind.title()}: the invitation has no email address "
            "to find the candidate by there.",
            now=event.at,
        )
        return None
    link = AtsLink(interview_id=event.interview_id, kind=spec.kind, created_at=event.at)
    session.add(link)
    session.flush()  # the inbound webhook that invited them records its ref on it next
    return link


def forget(session: Session, interview_id: int, now: datetime) -> None:
    """Erasure: the candidate's queued steps (none in flight) and their link go.

    A step being sent right now finishes (it cannot be called back halfway); it finds no
    link afterwards and records nothing. The ATS's own record of the candidate stays: it is
    the employer's system of record, with its own erasure (Lever: delete or anonymise the
    candidate). The recruiter who invited them is told, by number, so that a request that
    covers the ATS too is carried out there.
    """
    link = session.get(AtsLink, interview_id)
    interview = session.get(Interview, interview_id)
    told = interview is not None and _SLACK_USER.match(interview.invited_by) is not None
    if link is not None and link.ref is not None and interview is not None and told:
        vendor = link.kind.title()
        outgoing.to_team_member(
            session,
            interview.invited_by,
            f"ℹ️ Candidate #{interview_id} was erased from hirebot. Their record in {vendor} "
            "stays, with the notes hirebot added to it (their transcripts): "
            f"{vendor} is your system of record, so please erase or anonymise them there "
            "too if the request covers it.",
            now,
        )
    session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.ordering_key) == outgoing.ats_key(interview_id))
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(
            or_(col(OutboxMessage.locked_until).is_(None), col(OutboxMessage.locked_until) < now)
        )
    )
    session.execute(delete(AtsLink).where(col(AtsLink.interview_id) == interview_id))
