"""The candidate's thread: answers at once, transcripts in place, comments kept as notes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from bot.flows.outgoing import Kind
from bot.sandbox.slack_api import SlackMessage
from bot.sandbox.world import (
    OPENING_FILE,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
)
from storage import outbox
from storage.models import Comment, OutboxMessage, OutboxStatus, ThreadMessage
from tests.helpers.slack import card, db, hire, replies
from tests.helpers.stories import invite, start_answering
from tests.recordings import assert_uploaded_recording


async def test_answer_is_posted_at_once_even_when_transcription_never_comes(
    tmp_path: Path,
) -> None:
    # A Whisper model that cannot load: the worker never transcribes anything.
    async with World(data_dir=tmp_path, whisper_model=str(tmp_path / "no-such-model")) as w:
        jane = w.telegram.candidate(700_101, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        parent = await card(w)
        answer, recording = await replies(w, parent, 2)
        assert answer.text.splitlines()[0] == (
            "*Q1. Tell us about a system you built and what you would change today.*"
        )
        assert "🎙️ voice note · 0:07 · take 1 of 3" in answer.text
        assert "Transcript pending" in answer.text
        [uploaded] = recording.files
        assert_uploaded_recording(uploaded.data, SAMPLES / "answer1.ogg")
        assert recording.files[0].title == "Q1 answer, take 1"


async def test_thread_reply_is_kept_as_a_note_with_its_edits_and_deletion(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        parent = await card(w)
        tom = w.slack.teammate(TEAMMATE)
        ts = await tom.reply_in_thread(REVIEW_CHANNEL, parent.ts, "Strong on payments.")
        note = db(w, lambda s: s.exec(select(Comment)).one())
        assert (note.author, note.text, note.message_id) == (TEAMMATE, "Strong on payments.", ts)

        # A redelivered event (same event_id) stores nothing twice.
        event = {
            "type": "message",
            "user": TEAMMATE,
            "text": "Strong on payments.",
            "ts": ts,
            "thread_ts": parent.ts,
            "channel": REVIEW_CHANNEL,
            "event_ts": ts,
            "channel_type": "channel",
        }
        assert await tom.send_event(event, event_id="Ev0SAME") == 200
        assert await tom.send_event(event, event_id="Ev0SAME") == 200
        assert len(db(w, lambda s: s.exec(select(Comment)).all())) == 1

        # A channel message outside our threads is not ours to keep.
        await tom.send_event({**event, "ts": "1.000001", "thread_ts": None})
        assert len(db(w, lambda s: s.exec(select(Comment)).all())) == 1

        await tom.edit_reply(REVIEW_CHANNEL, ts, "Strong on payments and on-call.")
        note = db(w, lambda s: s.exec(select(Comment)).one())
        assert note.text == "Strong on payments and on-call." and note.edited_at is not None
        status = await hire(w, TEAMMATE, "status Jane Doe")
        assert f"<@{TEAMMATE}>: Strong on payments and on-call. (edited)" in status

        await tom.delete_reply(REVIEW_CHANNEL, ts)
        note = db(w, lambda s: s.exec(select(Comment)).one())
        assert note.deleted_at is not None and note.text == ""
        status = await hire(w, TEAMMATE, "status Jane Doe")
        assert "payments" not in status


async def test_answer_posted_before_a_crash_is_found_not_posted_again(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_102, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        parent = await card(w)
        await eventually(lambda: len(w.slack.thread(REVIEW_CHANNEL, parent.ts)) == 2)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)

        # As if the bot died after Slack took the post but before it recorded the ts:
        # the ts is unknown, the post was being attempted, and its outbox row is due again.
        def forget_the_post(message: ThreadMessage) -> None:
            message.message_id = None

        _due_again(w, Kind.THREAD_POST, forget_the_post)
        await w.wait_idle()
        answers = [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "Q1." in m.text]
        assert len(answers) == 1
        recorded = db(w, lambda s: s.exec(select(ThreadMessage)).one())
        assert recorded.message_id == answers[0].ts
        assert any(c.method == "conversations.replies" for c in w.slack.calls)


async def test_recording_uploaded_before_a_crash_is_found_not_uploaded_again(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_104, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        # The first attempt fails after the bytes went up (Slack's 500 on completing): it
        # left its mark, so the retry looks in the thread, finds nothing and uploads, once.
        w.slack.fail("files.completeUploadExternal", status=500, retry_after=None, error="")
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await card(w)
        await eventually(lambda: len(w.slack.files) == 1)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        [shared] = w.slack.files
        assert len([c for c in w.slack.calls if c.method == "files.getUploadURLExternal"]) == 2
        assert [c for c in w.slack.calls if c.method == "conversations.replies"]

        def upload_due_again(*, forget_file: bool) -> None:
            # As if the bot died after Slack took the upload: before it recorded the file id
            # (forget_file), or after that but before it marked the outbox row sent.
            def change(message: ThreadMessage) -> None:
                assert message.uploading_since is not None  # set before the upload began
                if forget_file:
                    message.file_id = None

            _due_again(w, Kind.THREAD_UPLOAD, change)

        for forget_file in (True, False):
            looks = len([c for c in w.slack.calls if c.method == "conversations.replies"])
            upload_due_again(forget_file=forget_file)
            await w.wait_idle()
            assert [f.id for f in w.slack.files] == [shared.id]
            recorded = db(w, lambda s: s.exec(select(ThreadMessage)).one())
            assert recorded.file_id == shared.id
            looked = len([c for c in w.slack.calls if c.method == "conversations.replies"])
            assert looked == looks + forget_file  # a recorded file needs no look
        assert len([c for c in w.slack.calls if c.method == "files.getUploadURLExternal"]) == 2


def _due_again(w: World, kind: Kind, change: Callable[[ThreadMessage], None]) -> None:
    """``change`` the thread's one reply as a crash would have left it, and make the outbox
    row of ``kind`` that wrote it due again."""

    def crashed(session: Session, _now: object) -> None:
        change(session.exec(select(ThreadMessage)).one())
        row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)).one()
        row.status = OutboxStatus.PENDING

    w.bot.uow.run_sync(crashed)
    w.bot.delivery.wake()


async def test_slack_429_storm_while_answers_post_delays_but_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_103, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        parent = await card(w)
        w.slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
        w.slack.fail("files.getUploadURLExternal", status=429, retry_after=1, times=1)
        w.slack.fail("chat.update", status=429, retry_after=1, times=1)
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await answer_question(jane, 2, 2, lambda: jane.send_video_note(SAMPLES / "answer2.mp4"))
        await jane.wait_for_message("submitted all 2 answers")

        def settled() -> bool:
            thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
            answers = [m for m in thread if m.text.startswith("*Q")]
            return (
                w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0
                and len(answers) == 2
                and all("pending" not in m.text for m in answers)
            )

        await eventually(settled, seconds=90, what="the storm to pass and transcripts to land")
        thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
        assert [m.text.split(".")[0] for m in thread if m.text.startswith("*Q")] == ["*Q1", "*Q2"]
        assert sum("completed" in m.text for m in thread) == 1
        assert [f.filename.split(".")[-1] for f in w.slack.files] == [
            "m4a",
            "mp4",
        ]  # the voice note as playable AAC
        assert len(thread) == 5  # two answers, two recordings, one "completed"
        refused = [c for c in w.slack.calls if c.method == "chat.postMessage"]
        assert len(refused) == 1 + 3 + 3  # the card, three 429s, then each post exactly once
        rows = db(w, lambda s: s.exec(select(OutboxMessage)).all())
        assert all(r.status == OutboxStatus.SENT for r in rows)


async def test_answer_post_says_the_transcript_is_not_in_the_openings_language(
    tmp_path: Path,
) -> None:
    # A German opening, but the candidate answered in English (and tiny.en hears only
    # English): reviewers must not take the text for what the opening asked for.
    opening = tmp_path / "opening.yaml"
    opening.write_text(OPENING_FILE.read_text() + "language: de\n")
    async with World(data_dir=tmp_path, opening_file=opening) as w:
        jane = w.telegram.candidate(700_105, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        parent = await card(w)

        def transcribed() -> SlackMessage | None:
            thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
            return next((m for m in thread if "payment service" in m.text), None)

        answer = await eventually(transcribed, seconds=60, what="the transcript in the post")
        lines = answer.text.splitlines()
        assert lines[-1] == "_🌐 Transcribed as English._"
        assert lines[-2].startswith("> ") and "payment service in Python" in lines[-2]
