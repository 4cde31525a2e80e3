"""The pipeline's stage table: each decision moves a candidate only where the pipeline allows;
stages and decisions keep the values stored rows were written with.

(The interview and question tables: test_lifecycle.py; advancing and rejecting through the
flows: test_next_stage.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import IllegalTransition
from bot.flows import pipeline
from storage.models import DecisionKind, Interview, InterviewStatus, Stage

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _interview(status: InterviewStatus) -> Interview:
    return Interview(
        opening_id=1,
        candidate_id=1,
        token_hash="t" * 64,
        status=status,
        deadline_at=NOW + timedelta(days=7),
        invited_by="U1",
        created_at=NOW,
    )


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("decision", [DecisionKind.ADVANCE, DecisionKind.REJECT])
def test_a_decision_moves_a_candidate_only_where_the_pipeline_allows(
    stage: Stage, decision: DecisionKind
) -> None:
    """Advance: to any stage of the pipeline. Reject: to Rejected. A rejected candidate: nowhere."""
    for target in Stage:
        row = _interview(InterviewStatus.COMPLETED)
        row.stage = stage
        allowed = stage != Stage.REJECTED and (
            target != Stage.REJECTED
            if decision == DecisionKind.ADVANCE
            else target == Stage.REJECTED
        )
        if allowed:
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
