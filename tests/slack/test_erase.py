"""A recruiter erases a candidate: gone from our disk, our database and the Slack thread."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, SAMPLES, World, answer_question, eventually
from storage import outbox
from storage.models import Answer, Candidate
from tests.e2e.conftest import invite, start_answering
from tests.slack.conftest import card, db


async def test_recruiter_erases_a_candidate_and_the_thread_keeps_nothing_of_them(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_401, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        parent = await card(w)
        await eventually(
            lambda: any("payment" in m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)),
            seconds=60,
            what="the transcript in the thread",
        )
        await eventually(lambda: w.bot.db.run_sync(outbox.pending_count) == 0)
        assert len(w.slack.files) == 1
        rita = w.slack.teammate(RECRUITER)

        ask = await rita.slash("/hire", "erase Jane Doe", REVIEW_CHANNEL)
        assert (ask.text or "").endswith("To go ahead: `/hire erase #1 confirm`")
        assert len(db(w, lambda s: s.exec(select(Answer)).all())) == 1  # nothing yet

        done = await rita.slash("/hire", "erase #1 confirm", REVIEW_CHANNEL)
        assert done.text == "Erased Jane Doe's recordings, transcripts and details (#1)."
        await eventually(lambda: w.bot.db.run_sync(outbox.pending_count) == 0)
        assert db(w, lambda s: s.exec(select(Answer)).all()) == []
        assert list((tmp_path / "media").glob("*/*")) == []
        candidate = db(w, lambda s: s.exec(select(Candidate)).one())
        assert "Jane" not in candidate.name
        thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
        assert w.slack.files == []  # the recording is deleted from Slack too
        assert not any("payment" in m.text.lower() for m in thread)
        # The bot's replies are deleted; only the note saying what happened is left.
        assert len(thread) == 1 and thread[0].text.startswith("🗑️ The candidate withdrew")
        assert "Jane" not in w.slack.messages(REVIEW_CHANNEL)[0].text

        again = await rita.slash("/hire", "erase #1 confirm", REVIEW_CHANNEL)
        assert "cannot" in (again.text or "") or "already" in (again.text or "")
