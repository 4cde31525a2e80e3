"""``World.wait_idle``: what the negative checks rely on returns only once the bot is done."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import REVIEW_CHANNEL, TEAMMATE, World, visible_text
from storage.models import Vote
from tests.helpers.stories import invite


async def test_a_candidates_message_is_handled_and_answered_by_the_time_it_returns(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        token = await invite(w)
        jane = w.telegram.candidate(700_900, "Jane", "Doe")
        await jane.send_command("/start", token)  # returns once Telegram has the update
        await w.wait_idle()
        # No polling: the update was taken, handled, and its answer delivered.
        assert any("Do you agree?" in (m.text or "") for m in jane.inbox())


async def test_a_click_is_stored_and_the_card_edited_by_the_time_it_returns(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        await w.wait_idle()
        [card] = w.slack.messages(REVIEW_CHANNEL)
        # The listener runs on after Bolt's ack; wait_idle waits for it and what it sends.
        await w.slack.teammate(TEAMMATE).click("vote_yes", message=card)
        await w.wait_idle()
        votes = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Vote)).all())
        assert [(v.reviewer, v.choice) for v in votes] == [(TEAMMATE, "yes")]
        assert "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])
