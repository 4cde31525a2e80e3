"""Reading the audit trail: ``/hire audit <candidate or #id>`` and ``hirebot audit export``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot.errors import NotFound
from bot.flows import pipeline
from bot.flows.audit import CANDIDATE, Action, about
from storage.models import AuditEvent, Interview


def trail(session: Session, *, who: str, by: str, now: datetime) -> str:
    """``/hire audit <candidate or #id>``: the interview's trail, oldest first, in UTC.

    It names the interview by its number only: after an erasure the trail still answers for
    ``#id`` and shows nobody's name. Reading it is itself recorded.
    """
    interview = _interview(session, who)
    assert interview.id is not None
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.interview_id) == interview.id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    about(session, interview, actor=by, action=Action.AUDIT_VIEWED, now=now)
    if not events:
        return f"*Audit trail of #{interview.id}*: nothing recorded yet."
    lines = [f"*Audit trail of #{interview.id}* (times in UTC, oldest first)"]
    lines += [f"• {_line(e)}" for e in events]
    return "\n".join(lines)


def _interview(session: Session, who: str) -> Interview:
    # Read only: no row lock, unlike pipeline.find_interview, which the deciding flows use.
    number = pipeline.interview_number(who)
    if number is not None:
        found = session.get(Interview, number)
        if found is None:
            raise NotFound(f"There is no interview #{number}.")
        return found
    return pipeline.one_named(who, pipeline.candidates_named(session, who))


def _line(event: AuditEvent) -> str:
    actor = f"<@{event.actor}>" if event.actor not in (CANDIDATE, "hirebot") else event.actor
    when = _utc(event.at).strftime("%Y-%m-%d %H:%M")
    detail = ", ".join(f"{k}={v}" for k, v in sorted(event.detail.items()))
    return f"{when} · {actor} · `{event.action}`" + (f" ({detail})" if detail else "")


def export_lines(session: Session, *, since: datetime) -> Iterator[str]:
    """``hirebot audit export --since``: one JSON object per row, oldest first."""
    rows = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.at) >= since)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
        .execution_options(yield_per=500)
    )
    for event in rows:
        yield json.dumps(
            {
                "id": event.id,
                "at": _utc(event.at).isoformat(),
                "actor": event.actor,
                "action": event.action,
                "interview_id": event.interview_id,
                "opening_id": event.opening_id,
                "detail": event.detail,
            },
            sort_keys=True,
        )


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
