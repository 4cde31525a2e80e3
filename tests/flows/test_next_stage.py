"""Advancing and rejecting: the next stage, the decision row, and who is told what."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.errors import IllegalTransition, InvalidRequest, NotFound
from bot.flows import pipeline
from storage.models import Decision
from tests.helpers.flows import CANDIDATE_TEXT, RECRUITER, FlowWorld

STAGES = ["Async interview", "Live interview", "Offer", "Hired"]


def _decisions(world: FlowWorld) -> list[tuple[str, str | None, str | None]]:
    return world.read(
        lambda s: [
            (d.kind, d.stage, d.reason)
            for d in s.exec(select(Decision).order_by(col(Decision.id))).all()
        ]
    )


def test_advancing_walks_the_stages_in_order_and_stops_at_the_last(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)

    for stage in STAGES[1:]:
        mark = world.mark()
        line = world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
        assert line == f"Jane Doe advanced to {stage}. They've been told on Telegram."
        assert world.interview(jane.interview_id).stage == stage
        # One message to the candidate, one note in the thread, and the card shows the stage.
        [told] = world.since(mark, CANDIDATE_TEXT)
        assert told.payload["chat_id"] == jane.chat_id
        assert any(
            f"advanced the candidate to *{stage}*" in str(r.payload.get("text"))
            for r in world.since(mark)
        )
        assert world.last_card()["stage"] == stage

    mark = world.mark()
    with pytest.raises(IllegalTransition, match=r"already at the last stage \(Hired\)"):
        world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert world.since(mark) == []  # a refused decision says nothing to anyone
    assert _decisions(world) == [("advance", stage, None) for stage in STAGES[1:]]


@pytest.mark.parametrize("asked", ["offer", "  OFFER ", "Offer"])
def test_a_named_stage_is_matched_whatever_its_case(world: FlowWorld, asked: str) -> None:
    world.opening()
    jane = world.invite()
    world.run(lambda s, now: pipeline.advance(s, who="#1", by=RECRUITER, now=now, stage=asked))
    assert world.interview(jane.interview_id).stage == "Offer"


def test_an_unknown_stage_is_refused_with_the_list_of_stages(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    with pytest.raises(NotFound, match="Stages: Async interview, Live interview, Offer, Hired"):
        world.run(
            lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now, stage="CEO")
        )
    assert world.interview(jane.interview_id).stage == "Async interview"
    assert _decisions(world) == []


def test_a_candidate_who_never_opened_the_link_is_advanced_but_not_told(
    world: FlowWorld,
) -> None:
    world.opening()
    world.invite()
    mark = world.mark()
    line = world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert line.endswith("they could not be told on Telegram, and no email address was given.")
    assert world.since(mark, CANDIDATE_TEXT) == []


def test_a_rejected_candidate_hears_once_and_can_be_neither_advanced_nor_rejected_again(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    mark = world.mark()
    world.run(
        lambda s, now: pipeline.reject(
            s, who="Jane Doe", by=RECRUITER, now=now, reason=" not senior ", message="Sorry!"
        )
    )
    [told] = world.since(mark, CANDIDATE_TEXT)
    assert told.payload["text"] == "Sorry!"
    assert any("Reason: not senior" in str(r.payload.get("text")) for r in world.since(mark))
    assert world.interview(jane.interview_id).stage == "Rejected"
    assert _decisions(world) == [("reject", None, "not senior")]

    mark = world.mark()
    with pytest.raises(IllegalTransition, match="rejected; they cannot be advanced"):
        world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    with pytest.raises(IllegalTransition, match="already rejected"):
        world.run(lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now))
    assert world.since(mark) == []


def test_a_rejection_with_an_empty_message_is_refused_the_candidate_always_hears(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    with pytest.raises(InvalidRequest, match="can't be empty"):
        world.run(
            lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now, message="  ")
        )
    assert world.interview(jane.interview_id).stage == "Async interview"


def test_two_candidates_with_one_name_are_told_apart_by_number(world: FlowWorld) -> None:
    world.opening()
    first, second = world.invite(), world.invite()
    with pytest.raises(
        NotFound, match=r"Several candidates are called 'jane doe'.*Use the #number"
    ):
        world.run(lambda s, now: pipeline.advance(s, who="jane doe", by=RECRUITER, now=now))
    world.run(
        lambda s, now: pipeline.advance(
            s, who=f"Candidate #{second.interview_id}", by=RECRUITER, now=now
        )
    )
    assert world.interview(first.interview_id).stage == "Async interview"
    assert world.interview(second.interview_id).stage == "Live interview"
