"""Deadlines and reminders on a simulated clock: the right message at the right time, once."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    REVIEW_CHANNEL,
    SAMPLES,
    SimulatedClock,
    World,
    answer_question,
    eventually,
    visible_text,
)
from storage.models import Interview, ReminderSent
from tests.helpers.stories import invite

MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _opening(tmp_path: Path, timezone: str = "UTC") -> Path:
    path = tmp_path / "opening.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            slug: backend-engineer
            title: Backend Engineer
            review_channel: C0REVIEW01
            timezone: {timezone}
            questions:
              - text: Tell us about a system you built.
              - text: How do you handle disagreement?
            """
        )
    )
    return path


def _reminders(jane: SandboxCandidate) -> list[str]:
    return [m.text or "" for m in jane.inbox() if "reminder" in (m.text or "")]


async def test_reminders_fire_at_the_right_times_and_never_after_completion(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock, opening_file=_opening(tmp_path)) as w:
        jane = w.telegram.candidate(700_400, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.wait_for_message("Do you agree?")

        clock.advance(hours=23)
        await w.bot.tick()
        assert _reminders(jane) == []

        clock.advance(hours=1, minutes=1)  # 24 h after the invite, not started
        await w.bot.tick()
        first = await jane.wait_for_message("friendly reminder")
        assert "Send /start to begin" in (first.text or "")
        await w.bot.tick()  # a second tick, or a restart, sends nothing twice
        await w.stop_bot()
        await w.start_bot()
        await w.bot.tick()

        clock.advance(days=3, minutes=1)  # Friday 10:02: 72 h before the deadline
        await w.bot.tick()
        second = await jane.wait_for_message("closes on")
        assert "You've answered 0 of 2" in (second.text or "")
        assert "Mon 30 Nov 2026, 10:00 UTC" in (second.text or "")
        assert len(_reminders(jane)) == 2

        await jane.press("I agree")
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await answer_question(jane, 2, 2, lambda: jane.send_voice(SAMPLES / "answer2.ogg"))
        await jane.wait_for_message("That's everything")
        clock.advance(days=2)  # 24 h before the deadline: she is done, so no reminder
        await w.bot.tick()
        clock.advance(days=2)  # past the deadline: a completed interview does not expire
        await w.bot.tick()
        assert len(_reminders(jane)) == 2
        sent = w.bot.uow.run_sync(lambda s, _now: s.exec(select(ReminderSent.rule)).all())
        assert sorted(sent) == ["deadline:72", "not_started:24"]
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert interview.status == "completed"


async def test_no_reminder_at_night_in_the_candidates_time_zone(tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 23:00 in Tokyo
    opening = _opening(tmp_path, timezone="Asia/Tokyo")
    async with World(data_dir=tmp_path, clock=clock, opening_file=opening) as w:
        jane = w.telegram.candidate(700_401, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        welcome = await jane.wait_for_message("Welcome to your async interview")
        assert "Mon 30 Nov 2026, 23:00 Asia/Tokyo" in (welcome.text or "")
        clock.advance(hours=24, minutes=1)  # due, but 23:01 in Tokyo
        await w.bot.tick()
        assert _reminders(jane) == []
        clock.advance(hours=9)  # 08:01 in Tokyo
        await w.bot.tick()
        await jane.wait_for_message("friendly reminder")


async def test_team_is_told_when_a_candidate_never_opened_the_link(tmp_path: Path) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock, opening_file=_opening(tmp_path)) as w:
        await invite(w)
        clock.advance(hours=24, minutes=1)
        await w.bot.tick()
        parent = await eventually(lambda: next(iter(w.slack.messages(REVIEW_CHANNEL)), None))
        note = await eventually(lambda: next(iter(w.slack.thread(REVIEW_CHANNEL, parent.ts)), None))
        assert "has not opened their invitation yet" in note.text


async def test_deadline_expires_the_interview_and_the_candidate_can_ask_for_more_time(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock, opening_file=_opening(tmp_path)) as w:
        jane = w.telegram.candidate(700_402, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        clock.advance(days=7)
        await w.bot.tick()
        closed = await jane.wait_for_message("has passed, so it is now closed")
        assert [label for label, _ in closed.buttons()] == ["Ask for more time"]
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        await eventually(lambda: "Expired" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        assert any("expired" in m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts))

        # Late answers are refused kindly; nothing is stored.
        mark = len(jane.inbox())
        await jane.send_voice(SAMPLES / "answer2.ogg")
        late = await jane.wait_for_message("deadline", after=mark)
        assert "has passed" in (late.text or "")

        await jane.press("Ask for more time", closed)
        await jane.wait_for_message("I've asked the hiring team for more time")
        await eventually(
            lambda: any(
                "asked for more time" in m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)
            )
        )


async def test_an_expired_invite_explains_and_offers_to_ask_for_more_time(tmp_path: Path) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock, opening_file=_opening(tmp_path)) as w:
        token = await invite(w)
        clock.advance(days=8)
        await w.bot.tick()
        jane = w.telegram.candidate(700_403, "Jane", "Doe")
        await jane.send_command("/start", token)
        expired = await jane.wait_for_message("has passed")
        assert "Mon 30 Nov 2026, 10:00 UTC" in (expired.text or "")
        assert [label for label, _ in expired.buttons()] == ["Ask for more time"]
