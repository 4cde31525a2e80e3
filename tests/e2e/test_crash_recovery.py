"""A bot killed while an answer's recording waits for Slack posts it exactly once on restart."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.flows.outgoing import Kind
from bot.sandbox.processes import start_bot_process
from bot.sandbox.world import (
    REVIEW_CHANNEL,
    SAMPLES,
    World,
    answer_question,
    eventually,
)
from storage import outbox
from storage.db import make_engine
from storage.models import Answer, OutboxMessage, OutboxStatus
from tests.candidate.media_files import speech_voice_note
from tests.helpers.stories import invite, start_answering
from tests.recordings import assert_uploaded_recording

# Each boots the bot as its own process, kills it and waits out a lease.
pytestmark = pytest.mark.slow


async def test_killed_bot_posts_stored_answer_exactly_once_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    log = tmp_path / "bot.log"
    async with World(data_dir=tmp_path / "data", database_url=database_url, autostart=False) as w:
        # Slack's file upload is down, so the answer is stored and transcribed but not posted.
        w.slack.fail("files.getUploadURLExternal", status=503, times=1_000_000)
        bot = await start_bot_process(w, log)
        jane = w.telegram.candidate(700_002, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(
            jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
        )

        engine = make_engine(database_url)

        def answer_waiting_for_slack() -> bool:
            with Session(engine) as session:
                answer = session.exec(select(Answer)).first()
                post = session.exec(
                    select(OutboxMessage).where(OutboxMessage.kind == Kind.THREAD_UPLOAD)
                ).first()
                return bool(
                    answer is not None
                    and answer.transcript_status == "done"
                    and post is not None
                    and post.status == OutboxStatus.PENDING
                    and post.attempts >= 1
                )

        await eventually(answer_waiting_for_slack, seconds=60, what="the stuck answer post")
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        # The answer itself was posted at once; its recording and transcript wait for Slack.
        (answer_post,) = w.slack.thread(REVIEW_CHANNEL, parent.ts)
        assert "Q1." in answer_post.text and "Transcript pending" in answer_post.text
        assert w.slack.files == []

        w.slack.fail("files.getUploadURLExternal", times=0)  # Slack is back
        bot = await start_bot_process(w, log)
        try:
            await eventually(
                lambda: "payment" in w.slack.thread(REVIEW_CHANNEL, parent.ts)[0].text.lower(),
                seconds=60,
                what="the transcript in the answer's post",
            )
            # A duplicate could only come from a row still to send: wait until none is left.
            await eventually(
                lambda: _pending_in(engine) == 0, seconds=60, what="the outbox to be delivered"
            )
            replies = w.slack.thread(REVIEW_CHANNEL, parent.ts)
            assert len(replies) == 2, [r.text for r in replies]  # the answer, its recording
            assert replies[0].ts == answer_post.ts and replies[0].edits == 1
            assert replies[1].files and replies[1].files[0].thread_ts == parent.ts
            [uploaded] = w.slack.files
            assert_uploaded_recording(uploaded.data, SAMPLES / "answer1.ogg")
            with Session(engine) as session:
                assert len(session.exec(select(Answer)).all()) == 1
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
            engine.dispose()
        # The process logged at INFO throughout: no token and no Telegram file URL in it.
        written = log.read_text()
        assert "hirebot is running" in written
        for secret in (w.telegram.token, *w.environment()["HIREBOT_SLACK_BOT_TOKEN"].split()):
            assert secret not in written
        assert "/file/bot" not in written
        assert "payment" not in written.lower()  # nor what the candidate said


async def test_transcript_of_an_answer_whose_transcription_was_killed_is_posted_within_2_min(
    tmp_path: Path, database_url: str
) -> None:
    """kill -9 mid-transcription: the claim's short lease runs out, and the restarted bot
    posts the transcript within two minutes (not the ten a long lease would hold it for).
    The lease takes 30 s; the rest is the transcription, which runs at nice 19 behind the
    other test workers (in CI it once took over 30 s for the 20 s answer)."""
    log = tmp_path / "bot.log"
    # Long enough to be caught mid-transcription, short enough to redo in seconds.
    answer = speech_voice_note(tmp_path / "answer.ogg", 20)
    async with World(data_dir=tmp_path / "data", database_url=database_url, autostart=False) as w:
        bot = await start_bot_process(w, log)
        jane = w.telegram.candidate(700_003, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(answer, duration=20))
        engine = make_engine(database_url)

        parent = w.slack.messages(REVIEW_CHANNEL)[0]

        def posted_and_claimed() -> bool:
            if not w.slack.thread(REVIEW_CHANNEL, parent.ts):
                return False
            with Session(engine) as session:
                answer = session.exec(select(Answer)).first()
                return bool(
                    answer is not None
                    and answer.transcript_status == "pending"
                    and answer.transcript_locked_until is not None
                )

        await eventually(posted_and_claimed, seconds=60, what="the transcription to start")
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert "Transcript pending" in w.slack.thread(REVIEW_CHANNEL, parent.ts)[0].text

        bot = await start_bot_process(w, log)
        try:
            try:
                await eventually(
                    lambda: "payment" in w.slack.thread(REVIEW_CHANNEL, parent.ts)[0].text.lower(),
                    seconds=120,
                    what="the transcript in the answer's post within 2 minutes of the restart",
                )
            except AssertionError as err:
                # It failed twice in 2026-11 under extra local load, never in CI: say where
                # the transcript was held up when it next does.
                raise AssertionError(f"{err}; {_where_things_are(engine)}") from err
            with Session(engine) as session:
                row = session.exec(select(Answer)).one()
                assert row.transcript_status == "done"
                assert row.transcript_attempts == 2, "the killed attempt was counted"
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 60)
            engine.dispose()


def _pending_in(engine: Engine) -> int:
    with Session(engine) as session:
        return outbox.pending_count(session)


def _where_things_are(engine: Engine) -> str:
    """The answer's transcription and each outbox row's state, for a failure message."""
    with Session(engine) as session:
        answers = [
            (a.transcript_status, a.transcript_attempts, a.transcript_locked_until)
            for a in session.exec(select(Answer)).all()
        ]
        rows = [
            (r.id, r.ordering_key, r.kind, r.status, r.attempts, r.locked_until, r.last_error)
            for r in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        ]
    return f"answers (status, attempts, lease): {answers}; outbox: {rows}"
