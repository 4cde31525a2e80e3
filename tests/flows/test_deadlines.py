"""Deadlines: an interview closes at its deadline, and more time reopens it where it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.errors import InvalidRequest
from bot.flows import extensions, interview, reminders
from storage.models import ExtensionRequest
from tests.helpers.flows import CANDIDATE_TEXT, RECRUITER, THREAD_POST, FlowWorld


def test_the_tick_expires_an_interview_at_its_deadline_and_says_so_once(
    world: FlowWorld,
) -> None:
    world.opening(reminders={"not_started_after_hours": [], "before_deadline_hours": []})
    jane = world.invite()
    world.agree(jane)
    world.now = jane.invitation.deadline - timedelta(seconds=1)
    world.run(reminders.tick)
    assert world.interview(jane.interview_id).status == "answering"

    mark = world.mark()
    world.now = jane.invitation.deadline
    world.run(reminders.tick)
    assert world.interview(jane.interview_id).status == "expired"
    [told] = world.since(mark, CANDIDATE_TEXT)
    labels = [c["label"] for row in told.payload["choices"] for c in row]
    assert labels == ["Ask for more time"]
    assert any(
        "The deadline passed" in str(r.payload["text"]) for r in world.since(mark, THREAD_POST)
    )
    assert world.last_card()["status"] == "expired"

    mark = world.mark()
    world.advance(days=1)
    world.run(reminders.tick)
    assert world.since(mark) == []  # an expired interview is not expired again


def test_a_candidate_writing_after_the_deadline_finds_the_interview_closed(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.now = jane.invitation.deadline + timedelta(minutes=5)  # before any tick ran
    world.run(lambda s, now: interview.message(s, person=jane.person, now=now))
    assert world.interview(jane.interview_id).status == "expired"
    assert "Ask for more time" in str(world.to_candidate(jane)[-1]["choices"])


def test_more_time_asked_after_the_deadline_and_approved_reopens_the_question(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.now = jane.invitation.deadline
    world.run(reminders.tick)

    mark = world.mark()
    world.press(jane, "Ask for more time")
    [request_note] = world.since(mark, THREAD_POST)
    assert "asked for more time" in request_note.payload["text"]
    request_id = world.read(lambda s: s.exec(select(ExtensionRequest.id)).one())
    assert request_id is not None

    mark = world.mark()
    world.press(jane, "Ask for more time")  # asking again while one waits changes nothing
    assert world.since(mark, THREAD_POST) == []

    world.advance(hours=2)
    world.run(
        lambda s, now: extensions.decide(
            s, request_id=request_id, approve=True, by=RECRUITER, now=now
        )
    )
    reopened = world.interview(jane.interview_id)
    assert reopened.status == "answering"  # she had agreed: back to answering, not invited
    assert reopened.deadline_at == world.now + timedelta(days=3)
    assert reopened.question_index == 1  # question 2 is next, as when it expired
    assert world.last_card()["status"] == "answering"


@pytest.mark.parametrize("days", [0, 31])
def test_extending_by_a_number_of_days_out_of_bounds_is_refused(
    world: FlowWorld, days: int
) -> None:
    world.opening()
    jane = world.invite()
    with pytest.raises(InvalidRequest, match="Extend by 1 to 30 days"):
        world.run(
            lambda s, now: extensions.extend(s, who="Jane Doe", days=days, by=RECRUITER, now=now)
        )
    assert world.interview(jane.interview_id).deadline_at == jane.invitation.deadline
