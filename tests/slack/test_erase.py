"""A recruiter erases a candidate: gone from our disk, our database and the Slack thread."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from bot.limits import InboundLimit
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    SimulatedClock,
    World,
    answer_question,
    eventually,
)
from storage import outbox
from storage.models import Answer, Candidate, OutboxMessage, OutboxStatus, ProcessedEvent
from tests.helpers.slack import card, db, hire
from tests.helpers.stories import invite, start_answering


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
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        assert len(w.slack.files) == 1
        rita = w.slack.teammate(RECRUITER)

        ask = await rita.slash("/hire", "erase Jane Doe", REVIEW_CHANNEL)
        assert (ask.text or "").endswith("To go ahead: `/hire erase #1 confirm`")
        assert len(db(w, lambda s: s.exec(select(Answer)).all())) == 1  # nothing yet

        done = await rita.slash("/hire", "erase #1 confirm", REVIEW_CHANNEL)
        assert done.text == "Erased Jane Doe's recordings, transcripts and details (#1)."
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
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


def _in_flight(w: World) -> int:
    """The id of the one outbox row being sent now."""
    rows = db(
        w,
        lambda s: s.exec(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .where(col(OutboxMessage.locked_until).is_not(None))
        ).all(),
    )
    assert len(rows) == 1, rows
    assert rows[0] is not None
    return rows[0]


async def _erase_while_held(w: World, method: str) -> None:
    """Erase #1 while one ``method`` call hangs in Slack, let everything else that can go
    out go out, then let the held call land: the erasure must still win."""
    held = _in_flight(w)
    assert await hire(w, RECRUITER, "erase #1 confirm") == (
        "Erased Jane Doe's recordings, transcripts and details (#1)."
    )

    def settled() -> bool:
        pending = db(
            w,
            lambda s: s.exec(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(col(OutboxMessage.id))
            ).all(),
        )
        return not pending or pending[0] == held  # the rest waits behind the held call

    await eventually(settled, what="everything not held back delivered")
    w.slack.release(method)
    await eventually(lambda: w.slack.held(method) == 0, what="the held call answered")
    await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)


async def test_a_card_update_in_flight_during_erasure_cannot_bring_the_name_back(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        parent = await card(w)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        w.slack.hold_next("chat.update")
        await w.slack.teammate(TEAMMATE).click("vote_yes", message=parent)
        await eventually(lambda: w.slack.held("chat.update") == 1, what="the update in flight")

        await _erase_while_held(w, "chat.update")

        shown = w.slack.messages(REVIEW_CHANNEL)[0]
        assert "Jane" not in json.dumps([shown.text, shown.blocks])
        assert "Withdrawn candidate #1" in shown.text


async def test_a_transcript_edit_in_flight_during_erasure_does_not_stay_in_slack(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_402, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        w.slack.hold_next(
            "chat.update",
            lambda p: (
                str(p.get("text", "")).startswith("*Q1.")
                and "Transcript pending" not in str(p.get("text"))
            ),
        )
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await eventually(
            lambda: w.slack.held("chat.update") == 1, seconds=60, what="the transcript in flight"
        )

        await _erase_while_held(w, "chat.update")

        parent = await card(w)
        thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
        assert len(thread) == 1 and thread[0].text.startswith("🗑️ The candidate withdrew")
        assert w.slack.files == []


async def test_the_periodic_tick_deletes_what_was_delivered_a_day_ago(tmp_path: Path) -> None:
    clock = SimulatedClock()
    async with World(data_dir=tmp_path, clock=clock) as w:
        await invite(w)
        await card(w)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        delivered = select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.SENT)
        before = set(db(w, lambda s: s.exec(delivered).all()))
        assert before  # the card post, with the name

        clock.advance(hours=24, minutes=1)
        await w.bot.tick()

        # Every row delivered a day ago is gone. The tick's own reminder is new, and may
        # already be delivered too: it stays.
        assert before.isdisjoint(db(w, lambda s: s.exec(delivered).all()))


async def test_the_periodic_tick_forgets_processed_keys_after_a_week(tmp_path: Path) -> None:
    clock = SimulatedClock()
    async with World(data_dir=tmp_path, clock=clock) as w:
        await invite(w)
        await w.slack.teammate(TEAMMATE).click("vote_yes", message=await card(w))
        keys = select(ProcessedEvent.key)
        await eventually(lambda: db(w, lambda s: s.exec(keys).all()), what="the vote's key")
        recorded = set(db(w, lambda s: s.exec(keys).all()))

        clock.advance(days=InboundLimit.KEEP_DAYS, minutes=1)
        await w.bot.tick()
        assert recorded.isdisjoint(db(w, lambda s: s.exec(keys).all()))
