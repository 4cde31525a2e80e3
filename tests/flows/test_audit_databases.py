"""The audit trail on SQLite and PostgreSQL: a row commits with its action or not at all,
and the export reads back in order, in UTC, whichever database holds it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.errors import NotFound
from bot.flows import audit, audit_trail, interview, openings, pipeline
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork
from storage.models import AuditEvent

NOW = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
RECRUITER = "U0RITA"


def _invite(uow: UnitOfWork) -> int:
    spec = openings.parse(OPENING_FILE)
    uow.run_sync(lambda s, now: openings.save(s, spec, now))
    return uow.run_sync(
        lambda s, now: interview.invite(
            s, opening_slug=spec.slug, candidate_name="Jane Doe", invited_by=RECRUITER, now=now
        )
    ).interview_id


def test_an_action_that_fails_leaves_no_audit_row(uow: UnitOfWork) -> None:
    uow.now = lambda: NOW
    number = _invite(uow)
    # A flow that records and then fails (an unknown interview) takes its record with it.

    def records_then_fails(session: Session, now: datetime) -> None:
        audit.record(
            session, actor=RECRUITER, action=audit.Action.DECIDED, now=now, interview_id=number
        )
        pipeline.reject(session, who="#999", by=RECRUITER, now=now)

    with pytest.raises(NotFound, match="no interview #999"):
        uow.run_sync(records_then_fails)
    actions = uow.run_sync(lambda s, _now: s.exec(select(AuditEvent.action)).all())
    assert actions == ["interview.invited"]


def test_the_export_is_in_order_and_in_utc(uow: UnitOfWork) -> None:
    uow.now = lambda: NOW
    number = _invite(uow)
    uow.now = lambda: NOW + timedelta(hours=1)  # the next day, UTC
    uow.run_sync(
        lambda s, now: audit.record(
            s, actor="candidate", action=audit.Action.STARTED, now=now, interview_id=number
        )
    )
    every = uow.run_sync(
        lambda s, _now: list(audit_trail.export_lines(s, since=datetime(2026, 1, 1, tzinfo=UTC)))
    )
    parsed = [json.loads(line) for line in every]
    assert [(p["at"], p["action"]) for p in parsed] == [
        ("2026-11-27T23:30:00+00:00", "interview.invited"),
        ("2026-11-28T00:30:00+00:00", "interview.started"),
    ]
    since_28th = uow.run_sync(
        lambda s, _now: list(audit_trail.export_lines(s, since=datetime(2026, 11, 28, tzinfo=UTC)))
    )
    assert [json.loads(line)["action"] for line in since_28th] == ["interview.started"]
