"""The audit trail (issue 12): who did what to which interview, and when.

Rows are appended in the caller's transaction, so an action and its record commit (or roll
back) together, and are never updated or deleted: erasure keeps them, because they carry no
personal data. The interview id is the pseudonym; ``detail`` holds ids, stages, counts and
choices only, and ``record`` refuses anything that looks like free text (a name, a note, a
reason), so a careless caller fails loudly in tests instead of leaking into the trail.
Reading the trail is bot.flows.audit_trail: this module imports nothing but storage and the
hooks that follow every event (bot.flows.webhook_events, which queues each event for the
endpoints subscribed to it; bot.flows.ats_sync, the ATS steps it calls for), so every flow can
record.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, select

from bot.flows import ats_sync, webhook_events
from storage.models import AuditEvent, Interview, Opening


class Action(StrEnum):
    INVITED = "interview.invited"
    STARTED = "interview.started"
    CONSENTED = "interview.consented"
    COMPLETED = "interview.completed"
    ERASED = "candidate.erased"
    VOTED = "review.voted"
    SCORED = "review.scored"
    DECIDED = "decision.made"
    STATUS_VIEWED = "status.viewed"
    AUDIT_VIEWED = "audit.viewed"
    EXPORTED = "export.made"
    RECRUITER_ADDED = "role.recruiter_added"
    RECRUITER_REMOVED = "role.recruiter_removed"
    CALL_BOOKED = "booking.booked"
    CALL_MOVED = "booking.moved"
    CALL_CANCELLED = "booking.cancelled"
    CALL_MARKED = "call.outcome_marked"
    TRANSCRIBED = "answer.transcribed"
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_REMOVED = "webhook.removed"
    INTRO_SET = "opening.intro_set"
    INTRO_REMOVED = "opening.intro_removed"
    RELAY_SENT = "relay.sent"
    QUESTION_ASKED = "question.asked"
    SHARED_IN_SLACK = "share.slack"
    SHARE_LINK_CREATED = "share.link_created"
    SHARE_LINK_REVOKED = "share.link_revoked"
    SHARE_VIEWED = "share.viewed"
    SHARE_VOTED = "share.voted"
    ATS_SYNCED = "ats.synced"  # a step reached the opening's ATS (bot.flows.ats_steps)
    ATS_GAVE_UP = "ats.gave_up"  # the ATS refused a step, or kept failing


CANDIDATE = "candidate"  # the actor when the candidate acted (in Telegram)
OPERATOR = "operator"  # the actor of a ``hirebot`` command run on the server (an export)

# A detail value: a number, a yes/no, a member of one of our enums (a stage, a vote choice),
# or a short token (a language code, a Slack id); None is left out.
Detail = int | bool | StrEnum | str | None

# Enum-like values only: a stage, a choice, a Slack id. No spaces, so no name or sentence.
_TOKEN = re.compile(r"^[A-Za-z0-9_.:#+-]{1,32}$")
# Slack ids (U…, W…, B…); "operator": whoever ran a ``hirebot`` command on the server.
_ACTOR = re.compile(r"^(?:[UWB][A-Z0-9]{1,31}|candidate|hirebot|operator)$")


def record(
    session: Session,
    *,
    actor: str,
    action: Action,
    now: datetime,
    interview_id: int | None = None,
    opening_id: int | None = None,
    **detail: Detail,
) -> AuditEvent:
    """Append one row in the caller's transaction; ``detail`` values None are left out."""
    assert _ACTOR.match(actor), "audit actor must be a Slack id, 'candidate', 'hirebot', 'operator'"
    kept: dict[str, int | bool | str] = {}
    for key, value in detail.items():
        if value is None:
            continue
        if isinstance(value, StrEnum):
            kept[key] = str(value)  # one of our own values ("Live interview"): not free text
            continue
        # bool is an int: both fine. A str must look like a token, never free text.
        assert isinstance(value, int) or _TOKEN.match(value), f"audit detail {key} is free text"
        kept[key] = value
    # A recruiter's preview (bot.flows.preview) is marked, and told to nobody outside: no
    # webhook and no ATS step below, as no stats or export count it.
    preview = interview_id is not None and _is_preview(session, interview_id)
    if preview:
        kept["preview"] = True
    event = AuditEvent(
        at=now,
        actor=actor,
        action=str(action),
        interview_id=interview_id,
        opening_id=opening_id,
        detail=kept,
    )
    session.add(event)
    if not preview:
        webhook_events.on_event(session, event)
        ats_sync.on_event(session, event)  # the ATS steps it calls for, in this transaction
    return event


def _is_preview(session: Session, interview_id: int) -> bool:
    interview = session.get(Interview, interview_id)
    return interview is not None and interview.preview


def about(
    session: Session,
    interview: Interview,
    *,
    actor: str,
    action: Action,
    now: datetime,
    **detail: Detail,
) -> AuditEvent:
    """``record`` for one interview, with its opening."""
    return record(
        session,
        actor=actor,
        action=action,
        now=now,
        interview_id=interview.id,
        opening_id=interview.opening_id,
        **detail,
    )


def actor_of(by: str) -> str:
    """The audit actor from how flows name who acted: ``<@U…>``, ``U…`` or the candidate."""
    match = re.match(r"^<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>$", by.strip())
    if match:
        return match.group(1)
    return by if _ACTOR.match(by) else CANDIDATE


def exported(
    session: Session,
    *,
    by: str,
    opening_slug: str | None,
    rows: int,
    now: datetime,
    fmt: str = "csv",
) -> None:
    """An export of candidates' data left hirebot (to ``by``'s DMs, or stdout), as ``fmt``."""
    opening_id = None
    if opening_slug is not None:
        opening = session.exec(select(Opening).where(Opening.slug == opening_slug)).first()
        opening_id = opening.id if opening is not None else None
    record(
        session,
        actor=by,
        action=Action.EXPORTED,
        now=now,
        opening_id=opening_id,
        rows=rows,
        all_openings=opening_slug is None,
        format=fmt,
    )
