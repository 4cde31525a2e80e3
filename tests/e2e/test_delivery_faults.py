"""Redeliveries change nothing; rate limits and outages delay messages, never lose or repeat."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import REVIEW_CHANNEL, SAMPLES, TEAMMATE, World, eventually, visible_text
from storage import outbox
from storage.models import Answer, Vote
from tests.e2e.conftest import invite, start_answering


async def test_redelivered_voice_update_stores_one_answer(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_010, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 2:")
        update_id = await jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
        await jane.wait_for_message("Got it")
        w.telegram.redeliver(update_id)
        await eventually(lambda: w.telegram.pending_updates == 0, what="the redelivery")
        await asyncio.sleep(0.5)
        received = [m for m in jane.inbox() if "Got it" in (m.text or "")]
        assert len(received) == 1
        answers = w.bot.db.run_sync(lambda s: s.exec(select(Answer)).all())
        assert len(answers) == 1


async def test_redelivered_vote_click_counts_once(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        tom = w.slack.teammate(TEAMMATE)
        card = await eventually(lambda: next(iter(w.slack.messages(REVIEW_CHANNEL)), None))
        await tom.click("vote_no", message=card)
        await eventually(lambda: "No 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        edits = w.slack.messages(REVIEW_CHANNEL)[0].edits
        await tom.redeliver_last_click()
        await asyncio.sleep(0.5)
        assert w.slack.messages(REVIEW_CHANNEL)[0].edits == edits

        # Changing one's mind is a new click: the vote changes, it is not added.
        await tom.click("vote_yes", message=w.slack.messages(REVIEW_CHANNEL)[0])
        await eventually(lambda: "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        assert "No 0" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])
        votes = w.bot.db.run_sync(lambda s: s.exec(select(Vote)).all())
        assert [(v.reviewer, v.choice) for v in votes] == [(TEAMMATE, "yes")]


async def test_telegram_rate_limit_delays_a_question_without_losing_or_repeating_it(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_011, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        consent = await jane.wait_for_message("Do you agree?")
        w.telegram.fail("sendMessage", status=429, retry_after=2, times=1)
        pressed = time.monotonic()
        await jane.press("I agree", consent)
        await jane.wait_for_message("Question 1 of 2.", timeout=20)
        assert time.monotonic() - pressed >= 2.0  # honoured retry_after
        assert sum("Question 1 of 2." in (m.text or "") for m in jane.inbox()) == 1


async def test_slack_429_storm_delays_posts_but_loses_and_duplicates_none(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        # Slack answers 429 to the first three card posts, then a 500: all is delivered once.
        w.slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
        await invite(w, "Jane Doe")
        await invite(w, "John Roe")
        await eventually(
            lambda: len(w.slack.messages(REVIEW_CHANNEL)) == 2, seconds=30, what="both cards"
        )
        await eventually(
            lambda: w.bot.db.run_sync(outbox.pending_count) == 0, what="the outbox to drain"
        )
        names = sorted(visible_text(m).split("*")[1] for m in w.slack.messages(REVIEW_CHANNEL))
        assert names == ["Jane Doe", "John Roe"]
        posts = [c for c in w.slack.calls if c.method == "chat.postMessage"]
        assert len(posts) == 5  # 3 refused + 2 delivered, no duplicate
