"""Retention end to end: the bot's own periodic tick, on a simulated clock, erases a
candidate rejected 181 days ago from the database, the data dir and the Slack emulator,
and leaves one rejected 179 days ago as it was."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from bot.sandbox.world import (
    REVIEW_CHANNEL,
    SAMPLES,
    SimulatedClock,
    World,
    answer_question,
    eventually,
    visible_text,
)
from storage import outbox
from storage.models import Answer, Candidate, Interview
from tests.helpers.slack import card, db, reject_through_form
from tests.helpers.stories import invite, start_answering


async def _settled(w: World) -> None:
    await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)


async def test_rejected_181_days_ago_is_gone_everywhere_179_days_ago_is_intact(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock()
    async with World(data_dir=tmp_path, clock=clock) as w:
        jane = w.telegram.candidate(700_601, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        jane_card = await card(w)
        await eventually(
            lambda: any("payment" in m.text for m in w.slack.thread(REVIEW_CHANNEL, jane_card.ts)),
            seconds=60,
            what="the transcript in the thread",
        )
        await invite(w, "John Roe")
        john_card = await card(w, 1)
        await reject_through_form(w, "Jane Doe", 1)
        await _settled(w)
        clock.advance(days=2)
        await reject_through_form(w, "John Roe", 2)
        await _settled(w)
        assert len(w.slack.files) == 1 and list((tmp_path / "media").glob("*/*"))

        clock.advance(days=179, minutes=1)  # Jane: 181 days since her rejection; John: 179
        await w.bot.tick()
        await _settled(w)

        # Gone from the database and the data dir...
        assert db(w, lambda s: s.exec(select(Answer)).all()) == []
        assert list((tmp_path / "media").glob("*/*")) == []
        people = db(w, lambda s: s.exec(select(Candidate).order_by(col(Candidate.id))).all())
        assert [p.name for p in people] == ["Withdrawn candidate #1", "John Roe"]
        assert (people[0].telegram_user_id, people[0].erased_at is not None) == (None, True)
        statuses = db(
            w, lambda s: s.exec(select(Interview.status).order_by(col(Interview.id))).all()
        )
        # John's unused invitation passed its deadline at the same tick: expired, not erased.
        assert statuses == ["withdrawn", "expired"]
        # ... and from Slack: the recording, the bot's replies, the name on the card.
        assert w.slack.files == []
        thread = w.slack.thread(REVIEW_CHANNEL, jane_card.ts)
        assert [m.text for m in thread] == [
            "🗑️ Erased after 180 days of retention: the candidate's recordings, transcripts "
            "and details are gone."
        ]
        assert "Jane" not in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])
        # John's card and thread are as they were.
        assert "John Roe" in visible_text(w.slack.messages(REVIEW_CHANNEL)[1])
        assert any("rejected" in m.text for m in w.slack.thread(REVIEW_CHANNEL, john_card.ts))

        # The next tick finds nothing more to do.
        before = len(w.slack.thread(REVIEW_CHANNEL, jane_card.ts))
        await w.bot.tick()
        await _settled(w)
        assert len(w.slack.thread(REVIEW_CHANNEL, jane_card.ts)) == before
