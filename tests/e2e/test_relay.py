"""Issue 11: the team answers a candidate in Telegram (text, a voice clip, a video), and the
candidate asks the team questions back, through the real PTB and Bolt against the sandbox."""

from __future__ import annotations

import asyncio
import io
import signal
from pathlib import Path
from typing import Any

import av
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.flows.outgoing import Kind
from bot.flows.relay import OUTSIDE_THREAD, REFUSAL
from bot.limits import RelayLimit
from bot.sandbox.processes import start_bot_process
from bot.sandbox.slack import SlackMessage
from bot.sandbox.slack_api import GENERAL_CHANNEL
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    eventually,
)
from bot.slack.relay_form import RELAY_CONFIRM, SHORTCUT, TEXT_BLOCK
from bot.transcription.media import playable_copy, probe
from storage import outbox
from storage.db import make_engine
from storage.media import MediaFolder
from storage.models import AuditEvent, CandidateQuestion, OutboxMessage, Relay, RelayStatus
from tests.candidate.media_files import tone_voice_note, video_with_audio
from tests.helpers.slack import card, db, human_message, opened_view, text_value
from tests.helpers.stories import invite, start_answering

Thread = list[SlackMessage]


async def _jane_in_thread(w: World, user_id: int = 700_101) -> tuple[SandboxCandidate, str]:
    """Jane is invited and has agreed; returns her and her card's ts."""
    jane = w.telegram.candidate(user_id, "Jane", "Doe")
    await start_answering(w, jane, await invite(w))
    return jane, (await card(w)).ts


def _thread(w: World, parent: str) -> Thread:
    return w.slack.thread(REVIEW_CHANNEL, parent)


async def _note(
    w: World, parent: str, starts: str, having: str = "", seconds: float = 30
) -> SlackMessage:
    def found() -> SlackMessage | None:
        for m in _thread(w, parent):
            if m.text.startswith(starts) and having in m.text:
                return m
        return None

    return await eventually(
        found, seconds=seconds, what=f"a thread note {starts!r} with {having!r}"
    )


def _message(w: World, channel: str, ts: str) -> SlackMessage:
    found = w.slack.find_message(channel, ts)
    assert found is not None
    return found


def _form_text(view: dict[str, Any]) -> str:
    return "\n".join(
        str((b.get("text") or {}).get("text") or "") for b in view["blocks"] if "text" in b
    )


async def _confirm(w: World, count: int, text: str) -> None:
    form = await opened_view(w, RELAY_CONFIRM, count)
    assert (
        await w.slack.teammate(RECRUITER).submit_view(form, {TEXT_BLOCK: text_value(text)}) == 200
    )
    assert w.slack.view_acks[-1] == {}, w.slack.view_acks[-1]


async def _ephemeral(w: World, user: str, before: int) -> str:
    def found() -> str | None:
        said = w.slack.ephemerals(user)
        return str(said[-1]["text"]) if len(said) > before else None

    return await eventually(found, what="a private answer")


def _m4a_voice_clip(tmp_path: Path) -> bytes:
    """What Slack's clients record as a voice clip: MP4/AAC (here from the demo's answer)."""
    copy = playable_copy(SAMPLES / "answer1.ogg", tmp_path / "clip")
    assert copy is not None
    return copy.read_bytes()


def _streams(data: bytes) -> tuple[str, list[tuple[str, int, int]]]:
    with av.open(io.BytesIO(data)) as container:
        return str(container.format.name), [
            (
                s.codec_context.name,
                int(getattr(s.codec_context, "width", 0) or 0),
                int(getattr(s.codec_context, "height", 0) or 0),
            )
            for s in container.streams
        ]


def _seconds(data: bytes, tmp_path: Path, suffix: str) -> float:
    path = tmp_path / f"received{suffix}"
    path.write_bytes(data)
    return probe(path).duration_seconds


async def test_candidate_asks_and_recruiter_replies_in_text(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane, parent = await _jane_in_thread(w)
        rita = w.slack.teammate(RECRUITER)

        # /ask goes straight to the thread, with a button to reply.
        await jane.send_command("/ask", "Is the role open to remote work?")
        await jane.wait_for_message("passed your question to the hiring team")
        question = await _note(w, parent, "❓ The candidate asked", "remote work")
        assert [b["text"]["text"] for b in question.buttons()] == ["↩️ Reply to candidate"]

        await rita.click(question.buttons()[0]["action_id"], message=question)
        form = await opened_view(w, RELAY_CONFIRM)
        assert "To *Jane Doe* in Telegram: a message." in _form_text(form)
        assert "> Is the role open to remote work?" in _form_text(form)
        await _confirm(w, 1, "Yes: two days a week in the office.")

        got = await jane.wait_for_message("two days a week")
        assert got.text == (
            "💬 From the Backend Engineer hiring team:\n\nYes: two days a week in the office."
        )
        sent = await _note(w, parent, "📨 Sent to Jane Doe at ", "✅ Delivered in Telegram")
        assert f"by <@{RECRUITER}>: a message" in sent.text
        answered = await _note(w, parent, "❓ The candidate asked", "replied")
        assert not answered.buttons()  # replied once: no second reply from the button

        def audited(s: Any) -> list[str]:
            return [e.action for e in s.exec(select(AuditEvent)).all()]

        trail = db(w, audited)
        assert "question.asked" in trail and "relay.sent" in trail


async def test_typed_message_after_the_interview_is_offered_as_a_question(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane, parent = await _jane_in_thread(w)
        # Before Ready, a typed message is not taken for an answer: it may be a question.
        await jane.send_text("Can I answer in German?")
        offer = await jane.wait_for_message("Send this to the hiring team as a question?")
        await jane.press("No", offer)
        await jane.wait_for_message("haven't sent it")
        seen = len(jane.inbox())
        await jane.send_text("Can I answer in German?")
        offer = await jane.wait_for_message("Send this to the hiring team", after=seen)
        await jane.press("Yes, send it", offer)
        await jane.wait_for_message("passed your question")
        await _note(w, parent, "❓ The candidate asked", "answer in German")
        # The dropped one is not kept; at most three a day, and the candidate is told.
        for n in (2, 3):
            await jane.send_command("/ask", f"Question {n}?")
            await _note(w, parent, "❓ The candidate asked", f"Question {n}?")
        await jane.send_command("/ask", "Question 4?")
        await jane.wait_for_message(
            f"up to {RelayLimit.QUESTIONS_PER_DAY} questions a day. You can ask again from"
        )
        await jane.send_command("/ask", "x" * (RelayLimit.QUESTION_CHARS + 1))
        await jane.wait_for_message("under 1000 characters")
        await w.wait_idle()
        rows = db(w, lambda s: s.exec(select(CandidateQuestion)).all())
        assert sorted(r.text for r in rows if r.status == "asked") == [
            "Can I answer in German?",
            "Question 2?",
            "Question 3?",
        ]
        assert [r.text for r in rows if r.status == "dropped"] == [""]


@pytest.mark.slow  # PyAV conversion
async def test_recruiter_sends_a_voice_clip_which_arrives_as_an_opus_voice_message(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        jane, parent = await _jane_in_thread(w)
        rita = w.slack.teammate(RECRUITER)
        clip = _m4a_voice_clip(tmp_path)
        source_seconds = _seconds(clip, tmp_path, ".m4a")
        # Slack labels voice clips video/mp4 on some clients: the subtype decides.
        posted = await rita.post_file_in_thread(
            REVIEW_CHANNEL,
            parent,
            clip,
            "audio_message_1.mp4",
            subtype="slack_audio",
            mimetype="video/mp4",
            text="Congratulations!",
        )
        assert await rita.use_message_shortcut(SHORTCUT, posted) == 200
        form = await opened_view(w, RELAY_CONFIRM)
        assert "a voice message (0:07)" in _form_text(form)
        text_input = next(b for b in form["blocks"] if b.get("block_id") == TEXT_BLOCK)
        assert text_input["element"]["initial_value"] == "Congratulations!"
        # Until confirmed, the converted clip waits in the media store.
        (draft,) = db(w, lambda s: s.exec(select(Relay)).all())
        assert draft.status == RelayStatus.DRAFT and draft.media_path
        media = MediaFolder(tmp_path / "data" / "media")
        assert media.path(draft.media_path).exists()

        await _confirm(w, 1, "Congratulations, we'd like to meet you!")
        voice = await eventually(
            lambda: next((m for m in jane.inbox() if m.kind == "voice"), None),
            what="the voice message",
        )
        assert voice.text is not None and voice.text.endswith("we'd like to meet you!")
        assert voice.file_id is not None
        data = w.telegram.stored_file(voice.file_id)
        fmt, streams = _streams(data)
        assert fmt == "ogg" and [s[0] for s in streams] == ["opus"]
        with av.open(io.BytesIO(data)) as container:
            assert container.streams.audio[0].codec_context.channels == 1
        assert abs(_seconds(data, tmp_path, ".ogg") - source_seconds) < 0.1
        await _note(w, parent, "📨 Sent to Jane Doe", "✅ Delivered")
        # Sent: the recording is no longer kept.
        await w.wait_idle()
        (row,) = db(w, lambda s: s.exec(select(Relay)).all())
        assert row.status == RelayStatus.SENT and row.media_path is None
        assert not media.path(draft.media_path).exists()


@pytest.mark.slow  # PyAV conversion
async def test_short_video_clip_becomes_a_round_video_note_and_an_upload_a_video(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        jane, parent = await _jane_in_thread(w)
        rita = w.slack.teammate(RECRUITER)
        wide = video_with_audio(
            tmp_path / "clip.mp4", width=640, height=360, video_seconds=4, audio_seconds=4, fps=10
        ).read_bytes()
        clip = await rita.post_file_in_thread(
            REVIEW_CHANNEL, parent, wide, "video_message.mp4", subtype="slack_video"
        )
        await rita.use_message_shortcut(SHORTCUT, clip)
        form = await opened_view(w, RELAY_CONFIRM)
        assert "a round video message (0:04)" in _form_text(form)
        await _confirm(w, 1, "Hello from the team")
        note = await eventually(
            lambda: next((m for m in jane.inbox() if m.kind == "video_note"), None),
            what="the video note",
        )
        assert note.file_id is not None
        fmt, streams = _streams(w.telegram.stored_file(note.file_id))
        side = RelayLimit.VIDEO_NOTE_SIDE
        assert fmt.startswith("mov,mp4") and sorted(streams) == [
            ("aac", 0, 0),
            ("h264", side, side),
        ]
        # A video note has no caption: the words came just before it.
        texts = [m.text or "" for m in jane.inbox()]
        assert texts[-2].endswith("Hello from the team")

        upload = await rita.post_file_in_thread(REVIEW_CHANNEL, parent, wide, "office-tour.mp4")
        await rita.use_message_shortcut(SHORTCUT, upload)
        form = await opened_view(w, RELAY_CONFIRM, 2)
        assert "a video (0:04)" in _form_text(form)
        await _confirm(w, 2, "")
        video = await eventually(
            lambda: next((m for m in jane.inbox() if m.kind == "video"), None), what="the video"
        )
        assert video.file_id is not None
        data = w.telegram.stored_file(video.file_id)
        fmt, streams = _streams(data)
        assert sorted(s[0] for s in streams) == ["aac", "h264"]
        assert abs(_seconds(data, tmp_path, ".mp4") - 4.0) < 0.1


async def test_only_recruiters_in_a_candidate_thread_and_bad_files_are_told_why(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        _jane, parent = await _jane_in_thread(w)
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        said = await tom.reply_in_thread(REVIEW_CHANNEL, parent, "We loved it")
        mine = _message(w, REVIEW_CHANNEL, said)

        # A teammate who is not a recruiter: refused, nothing opened or kept.
        before = len(w.slack.ephemerals(TEAMMATE))
        await tom.use_message_shortcut(SHORTCUT, mine)
        assert await _ephemeral(w, TEAMMATE, before) == REFUSAL

        # Outside a candidate's thread.
        general = await rita.reply_in_thread(GENERAL_CHANNEL, *await _general_message(w))
        before = len(w.slack.ephemerals(RECRUITER))
        await rita.use_message_shortcut(SHORTCUT, _message(w, GENERAL_CHANNEL, general))
        assert await _ephemeral(w, RECRUITER, before) == OUTSIDE_THREAD

        # A file that is not a recording.
        pdf = await rita.post_file_in_thread(REVIEW_CHANNEL, parent, b"%PDF-1.4", "cv.pdf")
        await rita.use_message_shortcut(SHORTCUT, pdf)
        problem = await eventually(
            lambda: next((v for v in w.slack.views if "not a recording" in _form_text(v)), None),
            what="the refusal of the PDF",
        )
        assert "Send to candidate* takes a voice or video clip" in _form_text(problem)

        # A clip longer than hirebot sends.
        long = tone_voice_note(tmp_path / "long.ogg", RelayLimit.MAX_SECONDS + 5)
        clip = await rita.post_file_in_thread(
            REVIEW_CHANNEL, parent, long.read_bytes(), "audio_message.ogg", subtype="slack_audio"
        )
        await rita.use_message_shortcut(SHORTCUT, clip)
        too_long = await eventually(
            lambda: next((v for v in w.slack.views if "long; hirebot" in _form_text(v)), None),
            seconds=60,
            what="the refusal of the long clip",
        )
        assert "up to 10:00. Record a shorter one." in _form_text(too_long)

        # Without files:read Slack serves its sign-in page: the recruiter hears what to fix.
        w.slack.granted_scopes.discard("files:read")
        clip = await rita.post_file_in_thread(
            REVIEW_CHANNEL, parent, _m4a_voice_clip(tmp_path), "a.mp4", subtype="slack_audio"
        )
        await rita.use_message_shortcut(SHORTCUT, clip)
        await eventually(
            lambda: next((v for v in w.slack.views if "files:read" in _form_text(v)), None),
            what="the missing scope",
        )
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(Relay)).all()) == []


async def _general_message(w: World) -> tuple[str, str]:
    """A channel message in #general (no candidate's thread) to reply under."""
    rita = w.slack.teammate(RECRUITER)
    w.slack.add_member(GENERAL_CHANNEL, RECRUITER)
    return human_message(w.slack, GENERAL_CHANNEL, rita.user_id, "Lunch?").ts, "Pizza"


async def test_a_blocked_bot_and_an_erased_candidate_are_told_in_the_thread(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        jane, parent = await _jane_in_thread(w)
        rita = w.slack.teammate(RECRUITER)
        said = await rita.reply_in_thread(REVIEW_CHANNEL, parent, "Thanks for your time!")
        mine = _message(w, REVIEW_CHANNEL, said)

        jane.block()
        await rita.use_message_shortcut(SHORTCUT, mine)
        await _confirm(w, 1, "Thanks for your time!")
        await _note(w, parent, "📨 Sent to Jane Doe", "⚠️ Not delivered: the candidate blocked")

        # She erases her data: what she asked and what was sent to her goes too.
        jane.blocked = False
        await jane.send_command("/ask", "Where is the office?")
        await _note(w, parent, "❓ The candidate asked", "office")
        await jane.wait_for_message("passed your question")
        # A clip Rita prepared but has not confirmed waits in the media store.
        clip = await rita.post_file_in_thread(
            REVIEW_CHANNEL, parent, _m4a_voice_clip(tmp_path), "a.mp4", subtype="slack_audio"
        )
        await rita.use_message_shortcut(SHORTCUT, clip)
        await opened_view(w, RELAY_CONFIRM, 2)
        drafts = db(w, lambda s: s.exec(select(Relay).where(Relay.status == "draft")).all())
        media = MediaFolder(tmp_path / "data" / "media")
        (waiting,) = [media.path(d.media_path) for d in drafts if d.media_path]
        assert waiting.exists()
        await jane.send_command("/delete_my_data")
        await jane.press("Yes, delete everything", await jane.wait_for_message("This deletes"))
        await jane.wait_for_message("Done: your recordings")
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(Relay)).all()) == []
        assert db(w, lambda s: s.exec(select(CandidateQuestion)).all()) == []
        assert not waiting.exists()
        assert not any("office" in m.text for m in _thread(w, parent))
        # The shortcut now answers that she cannot be reached.
        again = await rita.reply_in_thread(REVIEW_CHANNEL, parent, "One more thing")
        before = len(w.slack.ephemerals(RECRUITER))
        await rita.use_message_shortcut(SHORTCUT, _message(w, REVIEW_CHANNEL, again))
        assert "erased their data" in await _ephemeral(w, RECRUITER, before)


@pytest.mark.slow  # boots the bot as its own process and kills it
async def test_relay_confirmed_before_a_kill_is_sent_exactly_once_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    log = tmp_path / "bot.log"
    async with World(data_dir=tmp_path / "data", database_url=database_url, autostart=False) as w:
        bot = await start_bot_process(w, log)
        jane, parent = await _jane_in_thread(w, 700_102)
        rita = w.slack.teammate(RECRUITER)
        said = await rita.reply_in_thread(REVIEW_CHANNEL, parent, "We'd love to meet you.")
        # Telegram is down from now on: the confirmed message waits in the outbox.
        w.telegram.fail("sendMessage", status=502, times=1_000_000)
        await rita.use_message_shortcut(SHORTCUT, _message(w, REVIEW_CHANNEL, said))
        await _confirm(w, 1, "We'd love to meet you.")
        await _note(w, parent, "📨 Sent to Jane Doe")
        engine = make_engine(database_url)

        def relay_waiting() -> bool:
            with Session(engine) as session:
                row = session.exec(
                    select(OutboxMessage).where(OutboxMessage.kind == Kind.CANDIDATE_RELAY)
                ).first()
                return row is not None and row.status == "pending" and row.attempts >= 1

        await eventually(relay_waiting, seconds=60, what="the relay to wait for Telegram")
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        w.telegram.fail("sendMessage", times=0)  # Telegram is back
        bot = await start_bot_process(w, log)
        try:
            # A send in flight when it was killed waits out its lease (a minute) first.
            await _note(w, parent, "📨 Sent to Jane Doe", "✅ Delivered", seconds=120)
            await eventually(
                lambda: _pending_in(engine) == 0, seconds=60, what="the outbox to be delivered"
            )
            relayed = [m for m in jane.inbox() if "We'd love to meet you." in (m.text or "")]
            assert len(relayed) == 1
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 60)
            engine.dispose()
        written = log.read_text()
        assert "love to meet" not in written and "Jane" not in written


def _pending_in(engine: Engine) -> int:
    with Session(engine) as session:
        return outbox.pending_count(session)
