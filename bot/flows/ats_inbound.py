"""An ATS moved a candidate to the stage that starts our interview: invite them (issue 12).

The webhook is verified, read and handled once by bot.integrations.inbound; this is the rule,
in the transaction that records the delivery as handled: the opening is the
one whose ``ats`` names this job and this stage; a candidate already invited to it from this
ATS record is not invited twice; the invitation is the recruiter's own (bot.flows.interview:
the card, the emailed deep link), and the thread says it came from the ATS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.flows import ats_sync, interview, review
from bot.integrations.ats import StageChange
from storage.models import AtsLink, Interview, InterviewStatus, Opening


class Outcome(StrEnum):
    INVITED = "invited"
    NOT_OURS = "no opening starts an interview at this stage"
    NO_EMAIL = "the candidate has no email address in the ATS"
    ALREADY_INVITED = "already invited from this record"


def stage_changed(
    session: Session,
    *,
    kind: str,
    change: StageChange,
    invited_by: str,
    deep_link: Callable[[str], str],
    now: datetime,
) -> Outcome:
    opening = _opening_for(session, kind, change)
    if opening is None:
        return Outcome.NOT_OURS
    if change.person is None or not change.person.email:
        return Outcome.NO_EMAIL
    if _invited_before(session, opening, change.ref):
        return Outcome.ALREADY_INVITED
    invitation = interview.invite(
        session,
        opening_slug=opening.slug,
        candidate_name=change.person.name or change.person.email,
        invited_by=invited_by,
        now=now,
        email=change.person.email,
        deep_link=deep_link,
    )
    link = session.get_one(AtsLink, invitation.interview_id)
    link.ref = change.ref  # the record it came from: no search by email needed
    vendor = kind.title()
    review.note_in_thread(
        session,
        session.get_one(Interview, invitation.interview_id),
        f"📥 Invited automatically: {vendor} moved the candidate to the stage that starts this "
        "interview, and the invitation was emailed to them.",
        now,
    )
    return Outcome.INVITED


def _opening_for(session: Session, kind: str, change: StageChange) -> Opening | None:
    for opening in session.exec(select(Opening).where(col(Opening.ats).is_not(None))).all():
        spec = ats_sync.spec_of(opening)
        if (
            spec is not None
            and spec.kind == kind
            and spec.invite_stage == change.stage
            and (change.job is None or spec.job == change.job)
        ):
            return opening
    return None


def _invited_before(session: Session, opening: Opening, ref: str) -> bool:
    found = session.exec(
        select(Interview.id)
        .join(AtsLink, col(AtsLink.interview_id) == Interview.id)
        .where(AtsLink.ref == ref)
        .where(Interview.opening_id == opening.id)
        .where(Interview.status != InterviewStatus.WITHDRAWN)
        .limit(1)
    ).first()
    return found is not None
