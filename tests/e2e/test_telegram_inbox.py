"""A bot killed right after Telegram forgot a batch of updates still handles each one once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.sandbox.processes import start_bot_process
from bot.sandbox.world import REVIEW_CHANNEL, SAMPLES, World, eventually
from storage.db import make_engine
from storage.models import Answer, InboxStatus, InboxUpdate, OutboxMessage, OutboxStatus
from tests.helpers.stories import invite, start_answering


@pytest.mark.slow  # the bot runs as its own process, killed and started again
async def test_six_updates_queued_when_the_bot_is_killed_are_each_handled_exactly_once(
    tmp_path: Path, database_url: str
) -> None:
    log = tmp_path / "bot.log"
    async with World(data_dir=tmp_path / "data", database_url=database_url, autostart=False) as w:
        bot = await start_bot_process(w, log)
        engine = make_engine(database_url)
        try:
            jane = w.telegram.candidate(700_100, "Jane", "Doe")
            await start_answering(w, jane, await invite(w, "Jane Doe"))
            others = [w.telegram.candidate(700_200 + n, f"Person{n}", "Roe") for n in range(5)]
            tokens = [await invite(w, f"Person{n} Roe") for n in range(5)]
            mark = len(jane.inbox())
            await jane.press("Ready")
            await jane.wait_for_message("Question 1 of 2:", after=mark)
            mark = len(jane.inbox())

            def delivered() -> bool:
                with Session(engine) as session:
                    sent = session.exec(select(OutboxMessage.status)).all()
                    return all(status == OutboxStatus.SENT for status in sent)

            # What the bot said so far is marked sent: a message sent but not yet marked when
            # the process dies is sent again (the outbox delivers at least once).
            await eventually(delivered, what="the outbox to settle")

            # Six updates reach the bot in one batch; the bot dies as its next poll tells
            # Telegram to forget them.
            w.telegram.hold_updates()
            forgotten = w.telegram.hold_next_confirmation()
            batch = [await jane.send_voice(SAMPLES / "answer1.ogg", duration=7)]
            for person, token in zip(others, tokens, strict=True):
                batch.append(await person.send_command("/start", token))
            w.telegram.release_updates()
            await asyncio.wait_for(forgotten.wait(), 30)
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            assert w.telegram.pending_updates == 0  # Telegram will never hand them out again

            bot = await start_bot_process(w, log)
            for person in others:
                await person.wait_for_message("Do you agree?", timeout=60)
            got_it = await jane.wait_for_message("Got it", after=mark, timeout=60)

            def settled() -> bool:
                with Session(engine) as session:
                    rows = session.exec(select(InboxUpdate)).all()
                    return all(r.status != InboxStatus.PENDING for r in rows) and delivered()

            await eventually(settled, seconds=60, what="every stored update handled")
            for person in others:
                asked = [m for m in person.inbox() if "Do you agree?" in (m.text or "")]
                assert len(asked) == 1, [m.text for m in person.inbox()]
            assert [m.text for m in jane.inbox()[mark:]] == [got_it.text]
            with Session(engine) as session:
                rows = {
                    r.update_id: r
                    for r in session.exec(
                        select(InboxUpdate).where(InboxUpdate.update_id.in_(batch))  # type: ignore[attr-defined]
                    )
                }
                assert sorted(rows) == sorted(batch)
                assert {r.status for r in rows.values()} == {InboxStatus.DONE}
                assert all(r.payload == {} for r in rows.values())  # no content kept

            # The voice answer was stored once and reaches the review thread once.
            await jane.press("Submit ✅", got_it)
            await jane.wait_for_message("Answer 1 submitted", after=mark)

            def jane_thread() -> list[str]:
                for parent in w.slack.messages(REVIEW_CHANNEL):
                    replies = w.slack.thread(REVIEW_CHANNEL, parent.ts)
                    if any("Q1." in r.text for r in replies):
                        return [r.text for r in replies]
                return []

            await eventually(lambda: len(jane_thread()) == 2, seconds=60, what="the answer post")
            assert sum("Q1." in text for text in jane_thread()) == 1
            with Session(engine) as session:
                answers = session.exec(select(Answer)).all()
                assert [(a.take, a.submitted, a.media_kind) for a in answers] == [
                    (1, True, "voice")
                ]
            assert len(w.slack.files) == 1
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
            engine.dispose()
