"""A setup mistake (hirebot not in the review channel) delays the team's view, never wedges it:
the recruiters are told once, what to do; everything arrives, in order, once it is fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.flows.outgoing import Kind
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    World,
    answer_question,
    eventually,
    visible_text,
)
from storage import outbox
from storage.models import ChannelProblem, OutboxMessage, OutboxStatus
from tests.helpers.stories import invite, start_answering


def _card_row(w: World, name_in_card: str) -> OutboxMessage | None:
    rows = w.bot.uow.run_sync(
        lambda s, _now: s.exec(
            select(OutboxMessage).where(OutboxMessage.kind == Kind.CARD_POST)
        ).all()
    )
    return next((r for r in rows if name_in_card in str(r.payload)), None)


def _setup_dms(w: World) -> list[str]:
    return [m.text for m in w.slack.direct_messages(RECRUITER) if "/invite @hirebot" in m.text]


async def test_bot_not_in_review_channel_tells_recruiter_once_and_delivers_all_once_invited(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url) as w:
        w.slack.remove_member(REVIEW_CHANNEL, w.slack.bot_user_id)
        rita = w.slack.teammate(RECRUITER)
        jane = w.telegram.candidate(700_201, "Jane", "Doe")
        await start_answering(w, jane, await invite(w, "Jane Doe"))
        await invite(w, "John Roe")

        # The recruiter is told at once, in a DM, what to do: one DM for the channel,
        # not one per card, and not again on each retry.
        dm = await eventually(lambda: _setup_dms(w), seconds=10, what="the setup DM")
        assert f"<#{REVIEW_CHANNEL}>" in dm[0] and "not a member" in dm[0]

        # The interview goes on meanwhile; its answer waits behind its card.
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", 7))
        await eventually(
            lambda: (row := _card_row(w, "Jane Doe")) is not None and row.attempts >= 3,
            seconds=15,
            what="the card to be retried a few times",
        )
        assert w.slack.messages(REVIEW_CHANNEL) == []
        assert len(_setup_dms(w)) == 1

        # Inviting hirebot releases what waited at once, not at the next (growing) retry.
        card = _card_row(w, "Jane Doe")
        assert card is not None and card.waiting_for_channel == REVIEW_CHANNEL
        next_retry = card.next_attempt_at.replace(tzinfo=UTC)
        await rita.invite(w.slack.bot_user_id, REVIEW_CHANNEL)
        await eventually(
            lambda: len(w.slack.messages(REVIEW_CHANNEL)) == 2, seconds=10, what="both cards"
        )
        assert datetime.now(UTC) < next_retry, "delivered by the invitation, not a retry"

        # Everything arrives, in order within each conversation (the two cards go out side
        # by side), once.
        cards = {visible_text(m).split("*")[1]: m for m in w.slack.messages(REVIEW_CHANNEL)}
        assert sorted(cards) == ["Jane Doe", "John Roe"]
        janes = cards["Jane Doe"]

        def thread_done() -> bool:
            thread = w.slack.thread(REVIEW_CHANNEL, janes.ts)
            return (
                len(thread) >= 2
                and w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0
            )

        await eventually(thread_done, seconds=60, what="Jane's answer and recording")
        thread = w.slack.thread(REVIEW_CHANNEL, janes.ts)
        answers = [m for m in thread if m.text.startswith("*Q1")]
        uploads = [m for m in thread if m.files]
        assert len(answers) == 1 and len(uploads) == 1
        assert thread.index(answers[0]) < thread.index(uploads[0])
        card_posts = [
            c
            for c in w.slack.calls
            if c.method == "chat.postMessage"
            and c.params.get("channel") == REVIEW_CHANNEL
            and not c.params.get("thread_ts")
        ]
        assert len([c for c in card_posts if "Jane Doe" in str(c.params)]) >= 3  # retried
        assert len(_setup_dms(w)) == 1
        assert w.bot.uow.run_sync(lambda s, _now: s.exec(select(ChannelProblem)).all()) == []
        failed = w.bot.uow.run_sync(
            lambda s, _now: s.exec(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
            ).all()
        )
        assert failed == []


async def test_archived_review_channel_is_reported_and_retried_until_unarchived(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.archive(REVIEW_CHANNEL)
        await invite(w, "Jane Doe")
        await invite(w, "John Roe")
        dms = await eventually(
            lambda: [m.text for m in w.slack.direct_messages(RECRUITER) if "archived" in m.text],
            seconds=10,
            what="the archived-channel DM",
        )
        assert "unarchive" in dms[0] and f"<#{REVIEW_CHANNEL}>" in dms[0]

        # No event tells hirebot of an unarchive: its growing retry finds the channel open,
        # and the other card waiting for that channel follows at once.
        w.slack.archive(REVIEW_CHANNEL, archived=False)
        await eventually(
            lambda: len(w.slack.messages(REVIEW_CHANNEL)) == 2, seconds=20, what="both cards"
        )
        await eventually(
            lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0,
            what="the outbox",
        )
        archived_dms = [m for m in w.slack.direct_messages(RECRUITER) if "archived" in m.text]
        assert len(archived_dms) == 1
