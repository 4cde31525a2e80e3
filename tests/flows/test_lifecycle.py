"""The interview's state machine, cell by cell: what each event does in each state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import IllegalTransition
from bot.flows import lifecycle
from bot.flows.lifecycle import Event, PhaseEvent
from storage.models import Interview, InterviewStatus, QuestionPhase

S = InterviewStatus
Q = QuestionPhase
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# The whole table, written out: a new transition has to be added here on purpose.
ALLOWED = {
    (S.INVITED, Event.START): S.CONSENT_PENDING,
    (S.CONSENT_PENDING, Event.AGREE): S.ANSWERING,
    (S.CONSENT_PENDING, Event.DECLINE): S.DECLINED,
    (S.ANSWERING, Event.FINISH): S.COMPLETED,
    (S.INVITED, Event.EXPIRE): S.EXPIRED,
    (S.CONSENT_PENDING, Event.EXPIRE): S.EXPIRED,
    (S.ANSWERING, Event.EXPIRE): S.EXPIRED,
    (S.INVITED, Event.ERASE): S.WITHDRAWN,
    (S.CONSENT_PENDING, Event.ERASE): S.WITHDRAWN,
    (S.ANSWERING, Event.ERASE): S.WITHDRAWN,
    (S.COMPLETED, Event.ERASE): S.WITHDRAWN,
    (S.DECLINED, Event.ERASE): S.WITHDRAWN,
    (S.EXPIRED, Event.ERASE): S.WITHDRAWN,
}
# EXTEND has its own function (it needs the interview's timestamps), not a table cell.
CELLS = [(state, event) for state in S for event in Event if event != Event.EXTEND]


def _interview(
    status: InterviewStatus,
    started_at: datetime | None = None,
    consented_at: datetime | None = None,
) -> Interview:
    return Interview(
        opening_id=1,
        candidate_id=1,
        token_hash="0" * 64,
        status=status,
        deadline_at=T0,
        invited_by="U1",
        created_at=T0,
        started_at=started_at,
        consented_at=consented_at,
    )


@pytest.mark.parametrize(("state", "event"), CELLS, ids=[f"{s}-{e}" for s, e in CELLS])
def test_each_event_in_each_state_moves_as_the_table_says_or_is_refused(
    state: InterviewStatus, event: Event
) -> None:
    interview = _interview(state)
    target = ALLOWED.get((state, event))
    if target is not None:
        lifecycle.move(interview, event)
        assert interview.status == target
        return
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.move(interview, event)
    assert interview.status == state  # a refused event changes nothing
    # The refusal names what the interview could do instead.
    could = sorted(e.value for (s, e) in ALLOWED if s == state) or ["none"]
    assert str(refused.value).endswith(f"(it can: {', '.join(could)}).")


def test_the_table_in_the_code_is_the_table_in_this_test() -> None:
    assert lifecycle.TRANSITIONS == ALLOWED


@pytest.mark.parametrize(
    ("moments", "resumes_as"),
    [
        ({}, S.INVITED),
        ({"started_at": T0}, S.CONSENT_PENDING),
        ({"started_at": T0, "consented_at": T0}, S.ANSWERING),
    ],
    ids=["never-opened", "opened-not-agreed", "agreed"],
)
def test_more_time_reopens_an_expired_interview_where_the_candidate_left_it(
    moments: dict[str, datetime], resumes_as: InterviewStatus
) -> None:
    interview = _interview(S.EXPIRED, **moments)
    lifecycle.extend(interview)
    assert interview.status == resumes_as


@pytest.mark.parametrize("state", sorted(lifecycle.ACTIVE))
def test_more_time_keeps_an_active_interview_where_it_is(state: InterviewStatus) -> None:
    interview = _interview(state)
    lifecycle.extend(interview)
    assert interview.status == state


@pytest.mark.parametrize("state", [S.COMPLETED, S.DECLINED, S.WITHDRAWN])
def test_a_finished_interview_gets_no_more_time(state: InterviewStatus) -> None:
    interview = _interview(state)
    with pytest.raises(IllegalTransition, match="cannot extend"):
        lifecycle.extend(interview)
    assert interview.status == state


PHASE_STEPS = {
    (Q.INTRO, PhaseEvent.READY): Q.ANSWERING,
    (Q.ANSWERING, PhaseEvent.RECORD): Q.REVIEWING,
    (Q.REVIEWING, PhaseEvent.RERECORD): Q.ANSWERING,
    (Q.REVIEWING, PhaseEvent.SUBMIT): Q.INTRO,
    (Q.ANSWERING, PhaseEvent.PRACTICE_DONE): Q.INTRO,
    (Q.REVIEWING, PhaseEvent.NOTHING_TO_REVIEW): Q.ANSWERING,
}
PHASE_CELLS = [(phase, event) for phase in Q for event in PhaseEvent]


@pytest.mark.parametrize(("phase", "event"), PHASE_CELLS, ids=[f"{p}-{e}" for p, e in PHASE_CELLS])
def test_each_step_within_a_question_follows_the_phase_table(
    phase: QuestionPhase, event: PhaseEvent
) -> None:
    interview = _interview(S.ANSWERING)
    interview.phase = phase
    target = PHASE_STEPS.get((phase, event))
    if target is None:
        with pytest.raises(IllegalTransition, match=f"is {phase.value} cannot {event.value}"):
            lifecycle.step(interview, event)
        assert interview.phase == phase
    else:
        lifecycle.step(interview, event)
        assert interview.phase == target
