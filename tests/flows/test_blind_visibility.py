"""Blind review: a reviewer reads a candidate's name only after voting on them."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from bot.errors import NotFound
from bot.flows import visibility
from bot.flows.review import VoteChoice
from bot.flows.visibility import Viewer
from storage.models import Interview, Opening
from tests.helpers.flows import PRIVATE_NOTE, RECRUITER, REVIEW_CHANNEL, FlowWorld

REVIEWER = "U0TOM"
OUTSIDER = "U0OUT"
TOM = Viewer(REVIEWER, recruiter=False, channels=frozenset({REVIEW_CHANNEL}))
RITA = Viewer(RECRUITER, recruiter=True)
OLLIE = Viewer(OUTSIDER, recruiter=False, channels=frozenset({"C0ELSEWHERE"}))


def _sees_name(world: FlowWorld, viewer: Viewer, interview_id: int) -> bool:
    def check(session: Session) -> bool:
        found = session.get_one(Interview, interview_id)
        return visibility.sees_name(
            session, viewer, found, session.get_one(Opening, found.opening_id)
        )

    return world.read(check)


def _vote(world: FlowWorld, interview_id: int, reviewer: str = REVIEWER) -> None:
    world.vote(interview_id, reviewer, VoteChoice.YES)


def _find(world: FlowWorld, viewer: Viewer, who: str) -> int | None:
    return world.read(lambda s: visibility.find_interview(s, viewer, who).id)


def test_in_blind_review_the_card_names_an_alias_and_shows_no_tally(world: FlowWorld) -> None:
    world.opening(blind_review=True)
    jane = world.invite()
    _vote(world, jane.interview_id)
    card = world.last_card()
    assert card["candidate"] == f"Candidate #{jane.interview_id}"
    assert card["tally"] == {} and card["scores"] == {}
    assert card["votes_cast"] == 1  # how many voted is no secret; how they voted is


def test_a_reviewer_sees_the_name_only_after_voting_and_hears_it_privately(
    world: FlowWorld,
) -> None:
    world.opening(blind_review=True)
    jane = world.invite()
    assert not _sees_name(world, TOM, jane.interview_id)
    assert _sees_name(world, RITA, jane.interview_id)  # recruiters see every name
    assert not _sees_name(world, OLLIE, jane.interview_id)

    mark = world.mark()
    _vote(world, jane.interview_id)
    assert _sees_name(world, TOM, jane.interview_id)
    [reveal] = world.since(mark, PRIVATE_NOTE)
    assert reveal.payload["user"] == REVIEWER
    assert reveal.payload["channel"] == REVIEW_CHANNEL
    assert "Jane Doe" in reveal.payload["text"]
    # Only the voter is told: nothing else written since names her.
    others = [r for r in world.since(mark) if r.kind != PRIVATE_NOTE]
    assert "Jane Doe" not in str([r.payload for r in others])


def test_an_open_opening_shows_names_to_its_reviewers_and_to_no_one_else(
    world: FlowWorld,
) -> None:
    world.opening(blind_review=False)
    jane = world.invite()
    assert _sees_name(world, TOM, jane.interview_id)
    assert not _sees_name(world, OLLIE, jane.interview_id)
    assert world.last_card()["candidate"] == "Jane Doe"
    _vote(world, jane.interview_id)
    assert world.outbox(PRIVATE_NOTE) == []  # nothing to reveal


def test_a_name_a_reviewer_may_not_see_reads_as_no_such_candidate(world: FlowWorld) -> None:
    world.opening(blind_review=True)
    jane = world.invite()
    with pytest.raises(NotFound) as hidden:
        _find(world, TOM, "Jane Doe")
    with pytest.raises(NotFound) as missing:
        _find(world, TOM, "Nobody Here")
    # The same sentence, but for the name: a reviewer cannot probe for who applied.
    assert str(hidden.value).replace("Jane Doe", "X") == str(missing.value).replace(
        "Nobody Here", "X"
    )
    assert _find(world, TOM, f"#{jane.interview_id}") == jane.interview_id
    assert _find(world, RITA, "jane doe") == jane.interview_id

    _vote(world, jane.interview_id)
    assert _find(world, TOM, "Jane Doe") == jane.interview_id


def test_an_interview_of_an_opening_one_does_not_review_does_not_exist_for_them(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    with pytest.raises(NotFound, match=rf"There is no interview #{jane.interview_id}\."):
        _find(world, OLLIE, f"#{jane.interview_id}")
    with pytest.raises(NotFound, match=r"There is no interview #999\."):
        _find(world, OLLIE, "#999")
    assert world.read(lambda s: [o.slug for o in visibility.openings(s, OLLIE)]) == []
    assert world.read(lambda s: [o.slug for o in visibility.openings(s, TOM)]) == [
        "backend-engineer"
    ]
