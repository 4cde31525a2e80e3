"""The audit trail: each action the flows take writes the row it should, in the same
transaction, with ids, stages, counts and choices only; reading and exporting it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.errors import NotAllowed
from bot.flows import audit, audit_trail, call_outcomes, erasure, pipeline, reports, review, roles
from bot.flows.audit import Action
from bot.flows.review import VoteChoice
from bot.flows.visibility import Viewer
from storage.models import AuditEvent, BookingOutcome, Interview, Score
from tests.flows.test_scheduling import (
    advanced,
    bookings,
    data_of,
    last,
    name_interviewers,
    press,
    set_hours,
)
from tests.helpers.flows import RECRUITER, FlowWorld
from tests.helpers.scheduling import NEW_YORK, NOW

REVIEWER, OTHER = "U0REVIEWER", "U0NEWRECRUITER"


def events(world: FlowWorld, interview_id: int | None = None) -> list[AuditEvent]:
    def read(session: Session) -> list[AuditEvent]:
        query = select(AuditEvent).order_by(col(AuditEvent.at), col(AuditEvent.id))
        if interview_id is not None:
            query = query.where(col(AuditEvent.interview_id) == interview_id)
        return list(session.exec(query).all())

    return world.read(read)


def rows(world: FlowWorld, interview_id: int | None = None) -> list[tuple[str, str, Any]]:
    return [(e.actor, e.action, e.detail) for e in events(world, interview_id)]


def test_the_candidates_steps_are_recorded_as_the_candidate(world: FlowWorld) -> None:
    opening = world.opening()
    jane = world.invite("Jane Doe", email="jane@example.com")
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)

    assert rows(world, jane.interview_id) == [
        (RECRUITER, "interview.invited", {"language": "en", "emailed": True, "extra_time": False}),
        ("candidate", "interview.started", {}),
        ("candidate", "interview.consented", {"agreed": True}),
        ("candidate", "interview.completed", {"answers": 2, "questions": 2}),
    ]
    assert {e.opening_id for e in events(world)} == {opening.id}


def test_a_declined_consent_is_recorded_as_not_agreed(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.start(jane)
    world.press(jane, "No, thanks")
    assert rows(world, jane.interview_id)[-1] == (
        "candidate",
        "interview.consented",
        {"agreed": False},
    )


def test_votes_scores_and_decisions_carry_choices_and_counts_never_the_note_or_reason(
    world: FlowWorld,
) -> None:
    world.opening(rubric=["Clarity", "Depth"])
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)
    number = jane.interview_id
    before = len(events(world))

    world.vote(number, REVIEWER, VoteChoice.YES)
    world.vote(number, REVIEWER, VoteChoice.NO)
    world.run(
        lambda s, now: review.score(
            s,
            interview_id=number,
            reviewer=REVIEWER,
            scores={"Clarity": 4, "Depth": 2},
            note="Jane rambled about her ex-employer",
            now=now,
        )
    )
    world.run(
        lambda s, now: pipeline.advance(s, who=f"#{number}", by=RECRUITER, now=now, stage=None)
    )
    world.run(
        lambda s, now: pipeline.reject(
            s, who=f"#{number}", by=RECRUITER, now=now, reason="Too junior for Jane's team"
        )
    )

    assert rows(world, number)[before:] == [
        (REVIEWER, "review.voted", {"choice": "yes", "changed": False}),
        (REVIEWER, "review.voted", {"choice": "no", "changed": True}),
        (REVIEWER, "review.scored", {"criteria": 2, "note": True, "changed": False}),
        (RECRUITER, "decision.made", {"decision": "advance", "stage": "Live interview"}),
        (RECRUITER, "decision.made", {"decision": "reject", "stage": "Rejected"}),
    ]
    # The note is stored on the score, and only there.
    assert world.read(lambda s: s.exec(select(Score)).one().note).startswith("Jane rambled")
    assert "Jane" not in json.dumps([e.detail for e in events(world)])


def test_the_same_vote_again_records_nothing(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)

    def vote(session: Session, now: datetime) -> None:
        review.vote(
            session,
            interview_id=jane.interview_id,
            reviewer=REVIEWER,
            choice=VoteChoice.MAYBE,
            now=now,
        )

    world.run(vote)
    world.run(vote)
    assert [a for _, a, _ in rows(world)].count("review.voted") == 1


def test_status_of_one_candidate_records_who_looked_an_overview_does_not(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    viewer = Viewer(REVIEWER, recruiter=False, channels=frozenset({"C0REVIEW01"}))
    world.run(lambda s, now: reports.status(s, "", viewer=viewer, now=now))
    world.run(lambda s, now: reports.status(s, "backend-engineer", viewer=viewer, now=now))
    assert "status.viewed" not in [a for _, a, _ in rows(world)]

    world.run(lambda s, now: reports.status(s, "Jane Doe", viewer=viewer, now=now))
    assert rows(world)[-1] == (REVIEWER, "status.viewed", {})
    assert events(world)[-1].interview_id == jane.interview_id


def test_role_changes_and_exports_are_recorded_with_who_did_them(world: FlowWorld) -> None:
    opening = world.opening()
    world.invite()
    world.run(
        lambda s, now: roles.add(s, user=OTHER, by=RECRUITER, configured=[RECRUITER], now=now)
    )
    world.run(
        lambda s, now: roles.remove(s, user=OTHER, by=RECRUITER, configured=[RECRUITER], now=now)
    )
    # Adding someone who already is one changes nothing and records nothing.
    world.run(
        lambda s, now: roles.add(s, user=RECRUITER, by=RECRUITER, configured=[RECRUITER], now=now)
    )

    def export(session: Session, now: datetime) -> None:
        _content, count = reports.export_csv(session, "backend-engineer")
        audit.exported(session, by=RECRUITER, opening_slug="backend-engineer", rows=count, now=now)

    world.run(export)
    assert rows(world)[-3:] == [
        (RECRUITER, "role.recruiter_added", {"user": OTHER}),
        (RECRUITER, "role.recruiter_removed", {"user": OTHER}),
        (RECRUITER, "export.made", {"rows": 1, "all_openings": False, "format": "csv"}),
    ]
    assert events(world)[-1].opening_id == opening.id


def test_a_refused_action_records_nothing(world: FlowWorld) -> None:
    world.opening()
    before = len(events(world))
    with pytest.raises(NotAllowed):
        world.run(
            lambda s, now: roles.remove(
                s, user=RECRUITER, by=RECRUITER, configured=[RECRUITER], now=now
            )
        )
    assert len(events(world)) == before


def _booked_call(world: FlowWorld) -> tuple[int, int]:
    """Jane, advanced to the live interview, books Monday's call and moves it; returns
    (interview id, booking id)."""
    world.now = NOW - timedelta(days=3)
    world.opening()
    name_interviewers(world, NEW_YORK, url="https://meet.example/acme")
    set_hours(world, NEW_YORK)
    jane = advanced(world)
    press(world, jane, data_of(last(world, jane), "Mon 15 Mar 2027, 22:00"))
    press(world, jane, data_of(last(world, jane), "Reschedule"))
    press(world, jane, data_of(last(world, jane), "Mon 15 Mar 2027, 23:00"))
    (call,) = bookings(world)
    assert call.id is not None
    return jane.interview_id, call.id


def _calls(world: FlowWorld, interview_id: int) -> list[tuple[str, str, Any]]:
    return [r for r in rows(world, interview_id) if r[1].startswith(("booking", "call"))]


def test_booking_moving_and_a_cancellation_by_rejection_are_recorded_with_who(
    world: FlowWorld,
) -> None:
    number, call = _booked_call(world)
    # The recruiter rejects before the call: it is called off, by them.
    world.run(lambda s, now: pipeline.reject(s, who=f"#{number}", by=RECRUITER, now=now))
    assert _calls(world, number) == [
        ("candidate", "booking.booked", {"booking": call, "sequence": 0}),
        ("candidate", "booking.moved", {"booking": call, "sequence": 1}),
        (RECRUITER, "booking.cancelled", {"booking": call, "sequence": 2}),
    ]


def test_the_calls_outcome_is_recorded_with_who_marked_it(world: FlowWorld) -> None:
    number, call = _booked_call(world)
    ended = bookings(world)[0].ends_at.replace(tzinfo=UTC)
    world.now = ended + timedelta(minutes=1)
    world.run(call_outcomes.ask)

    def mark(outcome: BookingOutcome, by: str) -> None:
        world.run(
            lambda s, now: call_outcomes.mark(
                s, booking_id=call, outcome=outcome, by=by, recruiters=[RECRUITER], now=now
            )
        )

    mark(BookingOutcome.NO_SHOW, NEW_YORK)
    mark(BookingOutcome.NO_SHOW, NEW_YORK)  # the same again changes nothing
    mark(BookingOutcome.HELD, RECRUITER)
    assert _calls(world, number)[2:] == [
        (
            NEW_YORK,
            "call.outcome_marked",
            {"booking": call, "outcome": "no_show", "corrected": False},
        ),
        (RECRUITER, "call.outcome_marked", {"booking": call, "outcome": "held", "corrected": True}),
    ]


def test_erasure_keeps_the_trail_and_it_names_nobody(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite("Jane Marchetti", email="jane.marchetti@example.com")
    world.agree(jane)
    world.answer(jane, "At Marchetti Logistics I built the payments system.")
    world.answer(jane)
    world.run(
        lambda s, now: erasure.erase_for_recruiter(
            s, who=f"#{jane.interview_id}", confirmed=True, by=RECRUITER, now=now
        )
    )
    trail = rows(world, jane.interview_id)
    assert [a for _, a, _ in trail] == [
        "interview.invited",
        "interview.started",
        "interview.consented",
        "interview.completed",
        "candidate.erased",
    ]
    assert trail[-1] == (RECRUITER, "candidate.erased", {"interviews": 1})
    text = world.run(
        lambda s, now: audit_trail.trail(s, who=f"#{jane.interview_id}", by=RECRUITER, now=now)
    )
    dumped = json.dumps([e.model_dump(mode="json") for e in events(world)])
    for word in ("Jane", "Marchetti", "jane.marchetti"):
        assert word not in text
        assert word not in dumped


def test_the_candidate_erasing_themselves_is_recorded_as_the_candidate(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, jane.interview_id), by="the candidate", now=now
        )
    )
    assert rows(world, jane.interview_id)[-1] == (
        "candidate",
        "candidate.erased",
        {"interviews": 1},
    )


def test_the_trail_text_is_oldest_first_in_utc_with_mentions(world: FlowWorld) -> None:
    world.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    world.opening()
    jane = world.invite()
    world.advance(minutes=90)
    world.start(jane)
    text = world.run(lambda s, now: audit_trail.trail(s, who="Jane Doe", by=OTHER, now=now))
    assert text.splitlines() == [
        f"*Audit trail of #{jane.interview_id}* (times in UTC, oldest first)",
        f"• 2026-11-26 12:00 · <@{RECRUITER}> · `interview.invited` "
        "(emailed=False, extra_time=False, language=en)",
        "• 2026-11-26 13:30 · candidate · `interview.started`",
    ]
    # Reading it is itself on the record.
    assert rows(world, jane.interview_id)[-1] == (OTHER, "audit.viewed", {})


def test_free_text_in_a_detail_is_refused(world: FlowWorld) -> None:
    def careless(session: Session, now: datetime) -> None:
        audit.record(session, actor=RECRUITER, action=Action.DECIDED, now=now, reason="Too slow")

    with pytest.raises(AssertionError, match="free text"):
        world.run(careless)
    with pytest.raises(AssertionError, match="actor"):
        world.run(lambda s, now: audit.record(s, actor="Jane Doe", action=Action.VOTED, now=now))
    assert events(world) == []


def test_the_json_lines_export_reads_back_from_the_day_given(world: FlowWorld) -> None:
    world.now = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    world.opening()
    world.invite("Early Bird")
    world.now = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    jane = world.invite()
    world.advance(minutes=5)
    world.start(jane)

    lines = world.read(
        lambda s: list(audit_trail.export_lines(s, since=datetime(2026, 11, 26, tzinfo=UTC)))
    )
    parsed = [json.loads(line) for line in lines]
    assert [(p["at"], p["actor"], p["action"], p["interview_id"]) for p in parsed] == [
        ("2026-11-26T00:00:00+00:00", RECRUITER, "interview.invited", jane.interview_id),
        ("2026-11-26T00:05:00+00:00", "candidate", "interview.started", jane.interview_id),
    ]
    assert parsed[0]["detail"] == {"emailed": False, "extra_time": False, "language": "en"}
    assert set(parsed[0]) == {"id", "at", "actor", "action", "interview_id", "opening_id", "detail"}
