"""The transition tables: what moves an interview, a question and a candidate's stage, and
that anything else is refused with a sentence, changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition
from bot.flows import interview, lifecycle, openings, pipeline
from bot.flows.lifecycle import PHASES, TRANSITIONS, Event, PhaseEvent
from bot.flows.pipeline import STAGES
from bot.sandbox.world import OPENING_FILE
from storage import migrate
from storage.db import make_engine, transaction
from storage.models import (
    Decision,
    DecisionKind,
    Interview,
    InterviewStatus,
    QuestionPhase,
    Stage,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _interview(status: InterviewStatus, phase: QuestionPhase = QuestionPhase.INTRO) -> Interview:
    return Interview(
        opening_id=1,
        candidate_id=1,
        token_hash="t" * 64,
        status=status,
        phase=phase,
        deadline_at=NOW + timedelta(days=7),
        invited_by="U1",
        created_at=NOW,
    )


@pytest.mark.parametrize(("state", "event"), sorted(TRANSITIONS))
def test_each_allowed_event_moves_the_interview_where_the_table_says(
    state: InterviewStatus, event: Event
) -> None:
    row = _interview(state)
    lifecycle.move(row, event)
    assert row.status == TRANSITIONS[(state, event)]


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (s, e)
        for s in InterviewStatus
        for e in Event
        if (s, e) not in TRANSITIONS and not (e == Event.EXTEND and s in lifecycle.EXTENDABLE)
    ],
)
def test_an_event_the_table_lacks_is_refused_and_changes_nothing(
    state: InterviewStatus, event: Event
) -> None:
    row = _interview(state)
    if event == Event.EXTEND:  # EXTEND keeps or resumes a state: its own rule
        with pytest.raises(IllegalTransition, match="cannot extend"):
            lifecycle.extend(row)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot {event.value}"):
            lifecycle.move(row, event)
    assert row.status == state


def test_a_finished_interview_cannot_be_finished_again() -> None:
    row = _interview(InterviewStatus.COMPLETED)
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.move(row, Event.FINISH)
    assert str(refused.value) == "An interview that is completed cannot finish (it can: erase)."


@pytest.mark.parametrize(("phase", "event"), sorted(PHASES))
def test_each_allowed_question_event_moves_the_phase(
    phase: QuestionPhase, event: PhaseEvent
) -> None:
    row = _interview(InterviewStatus.ANSWERING, phase)
    lifecycle.step(row, event)
    assert row.phase == PHASES[(phase, event)]


@pytest.mark.parametrize(
    ("phase", "event"),
    [(p, e) for p in QuestionPhase for e in PhaseEvent if (p, e) not in PHASES],
)
def test_a_question_event_out_of_turn_is_refused(phase: QuestionPhase, event: PhaseEvent) -> None:
    """E.g. Submit before anything was recorded, or Ready while a take waits for review."""
    row = _interview(InterviewStatus.ANSWERING, phase)
    with pytest.raises(IllegalTransition, match=f"A question that is {phase.value} cannot"):
        lifecycle.step(row, event)
    assert row.phase == phase


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("decision", [DecisionKind.ADVANCE, DecisionKind.REJECT])
def test_the_stage_table_allows_only_what_it_lists(stage: Stage, decision: DecisionKind) -> None:
    for target in Stage:
        row = _interview(InterviewStatus.COMPLETED)
        row.stage = stage
        if target in pipeline.TRANSITIONS.get((stage, decision), frozenset()):
            pipeline.change_stage(row, decision, target)
            assert row.stage == target
        else:
            with pytest.raises(IllegalTransition):
                pipeline.change_stage(row, decision, target)
            assert row.stage == stage


def test_stage_values_are_the_stored_ones() -> None:
    """Rows written before the enums keep their meaning."""
    assert [s.value for s in Stage] == [
        "Async interview",
        "Live interview",
        "Offer",
        "Hired",
        "Rejected",
    ]
    assert [k.value for k in DecisionKind] == ["advance", "reject", "extend", "deny_extension"]


# ------------------------------------------------------------------ the flows, on SQLite


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    spec = openings.parse(OPENING_FILE)
    with transaction(engine) as s:
        openings.save(s, spec, NOW)
        opening = openings.find_opening(s, spec.slug)
        assert opening is not None
        opening.review_channel = "C1"
        interview.invite(
            s, opening_slug=spec.slug, candidate_name="Jane Doe", invited_by="U1", now=NOW
        )
        yield s
    engine.dispose()


def _stage(session: Session) -> str:
    return session.exec(select(Interview.stage)).one()


def test_advance_walks_the_pipeline_in_order_and_stops_at_the_last_stage(
    session: Session,
) -> None:
    assert _stage(session) == Stage.ASYNC_INTERVIEW
    for expected in STAGES[1:]:
        pipeline.advance(session, who="Jane Doe", by="U1", now=NOW)
        assert _stage(session) == expected
    with pytest.raises(IllegalTransition, match="already at the last stage"):
        pipeline.advance(session, who="Jane Doe", by="U1", now=NOW)
    assert _stage(session) == Stage.HIRED


def test_a_rejected_candidate_cannot_be_advanced_or_rejected_again(session: Session) -> None:
    pipeline.advance(session, who="Jane Doe", by="U1", now=NOW, stage="offer")
    pipeline.reject(session, who="Jane Doe", by="U1", now=NOW, reason="timing")
    assert _stage(session) == Stage.REJECTED
    with pytest.raises(IllegalTransition) as advanced:
        pipeline.advance(session, who="Jane Doe", by="U1", now=NOW)
    assert str(advanced.value) == "This candidate was rejected; they cannot be advanced."
    with pytest.raises(IllegalTransition) as rejected:
        pipeline.reject(session, who="Jane Doe", by="U1", now=NOW)
    assert str(rejected.value) == "This candidate was already rejected."
    with pytest.raises(IllegalTransition):
        pipeline.rejection_draft(session, "Jane Doe")
    decisions = session.exec(select(Decision.kind, Decision.stage).order_by(col(Decision.id))).all()
    assert decisions == [("advance", "Offer"), ("reject", None)]
