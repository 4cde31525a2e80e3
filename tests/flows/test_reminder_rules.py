"""Reminders: which rule is due when, quiet hours where the candidate is, and never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.flows import reminders
from storage.models import Interview, Opening, ReminderSent
from tests.helpers.flows import CANDIDATE_TEXT, THREAD_POST, FlowWorld


def _tick(world: FlowWorld) -> int:
    return world.run(reminders.tick)


def _sent_rules(world: FlowWorld) -> list[str]:
    return world.read(
        lambda s: list(s.exec(select(ReminderSent.rule).order_by(col(ReminderSent.rule))).all())
    )


def test_the_rules_of_an_opening_are_ordered_by_when_they_fall_due(world: FlowWorld) -> None:
    world.opening(reminders={"not_started_after_hours": [48, 24], "before_deadline_hours": [24]})
    jane = world.invite()
    found = world.read(
        lambda s: reminders.rules(
            (row := s.get_one(Interview, jane.interview_id)), s.get_one(Opening, row.opening_id)
        )
    )
    start, deadline = world.now, jane.invitation.deadline
    assert [(r.name, r.kind, r.due_at) for r in found] == [
        ("not_started:24", "not_started", start + timedelta(hours=24)),
        ("not_started:48", "not_started", start + timedelta(hours=48)),
        ("deadline:24", "before_deadline", deadline - timedelta(hours=24)),
    ]


def test_a_candidate_who_has_not_started_is_reminded_once_when_the_rule_falls_due(
    world: FlowWorld,
) -> None:
    world.opening()  # not started after 24 h; 72 h and 24 h before the 7-day deadline
    jane = world.invite()
    world.start(jane)  # opened the link, never agreed
    world.advance(hours=23, minutes=59)
    assert _tick(world) == 0
    mark = world.mark()

    world.advance(minutes=1)
    assert _tick(world) == 1
    [reminder] = world.since(mark, CANDIDATE_TEXT)
    assert reminder.payload["chat_id"] == jane.chat_id
    assert "friendly reminder" in reminder.payload["text"]
    assert _sent_rules(world) == ["not_started:24"]

    mark = world.mark()
    world.advance(hours=1)
    assert _tick(world) == 0  # the row in ReminderSent: a later tick sends nothing again
    assert world.since(mark) == []


def test_nothing_is_sent_during_the_candidates_night_and_the_morning_tick_sends_it(
    world: FlowWorld,
) -> None:
    # Noon UTC is 07:00 in New York: still quiet hours there.
    world.opening(timezone="America/New_York")
    jane = world.invite()
    world.start(jane)
    world.advance(hours=24)
    mark = world.mark()
    assert _tick(world) == 0
    assert world.since(mark) == [] and _sent_rules(world) == []

    world.advance(hours=1)  # 08:00 in New York
    assert _tick(world) == 1
    assert len(world.since(mark, CANDIDATE_TEXT)) == 1
    assert _sent_rules(world) == ["not_started:24"]


def test_a_candidate_who_never_opened_the_link_is_not_written_to_the_team_is_told(
    world: FlowWorld,
) -> None:
    world.opening(timezone="America/New_York")
    jane = world.invite()
    world.advance(hours=24)  # night in New York: quiet hours are the candidate's, not the team's
    mark = world.mark()
    assert _tick(world) == 1
    assert world.since(mark, CANDIDATE_TEXT) == []
    [note] = world.since(mark, THREAD_POST)
    assert "has not opened their invitation yet" in note.payload["text"]
    assert world.interview(jane.interview_id).status == "invited"


def test_after_an_outage_the_rules_due_together_send_one_message_the_latest(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.start(jane)
    world.advance(days=6, hours=1)  # not_started:24, deadline:72 and deadline:24 all past
    mark = world.mark()
    assert _tick(world) == 1
    [reminder] = world.since(mark, CANDIDATE_TEXT)
    assert "closes on" in reminder.payload["text"]  # before_deadline, not "friendly reminder"
    assert "answered 0 of 2" in reminder.payload["text"]
    assert _sent_rules(world) == ["deadline:24", "deadline:72", "not_started:24"]


def test_a_candidate_who_has_answered_gets_no_not_started_reminder_only_the_deadline_ones(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.advance(days=1)
    mark = world.mark()
    assert _tick(world) == 0
    assert world.since(mark) == []

    world.advance(days=3)  # 72 h before the deadline
    assert _tick(world) == 1
    [reminder] = world.since(mark, CANDIDATE_TEXT)
    assert "answered 1 of 2" in reminder.payload["text"]
    assert _sent_rules(world) == ["deadline:72"]


def test_a_finished_interview_is_never_reminded(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)
    assert world.interview(jane.interview_id).status == "completed"
    mark = world.mark()
    for _ in range(8):
        world.advance(days=1)
        assert _tick(world) == 0
    assert world.since(mark) == [] and _sent_rules(world) == []
