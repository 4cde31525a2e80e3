"""One interview end to end: real PTB, Bolt and slack_sdk against the sandbox, real Whisper."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.sandbox.slack import SlackMessage
from bot.sandbox.world import (
    INVITE_LINK,
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
    visible_text,
)
from storage import outbox
from storage.db import make_engine
from storage.media import MediaFolder
from storage.models import (
    Answer,
    Interview,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    Vote,
)
from tests.recordings import assert_uploaded_recording


@pytest.mark.slow  # the whole story, with real transcription and media conversion
@pytest.mark.parametrize("slack_mode", ["socket", "http"])
async def test_candidate_answers_and_team_reviews_and_recruiter_advances(
    tmp_path: Path, database_url: str, slack_mode: str
) -> None:
    async with World(data_dir=tmp_path, slack_mode=slack_mode, database_url=database_url) as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        jane = w.telegram.candidate(700_001, "Jane", "Doe")

        # The recruiter invites; the link comes back to them alone, in the command's ack.
        reply = await rita.slash("/hire", "invite backend-engineer Jane Doe", REVIEW_CHANNEL)
        assert reply.status == 200
        link = INVITE_LINK.search(reply.text or "")
        assert link is not None, reply.text
        assert link.group(1) == w.telegram.bot_username
        token = link.group(2)
        assert len(token) <= 64
        assert w.slack.ephemerals(RECRUITER)[-1]["via"] == "ack"

        # One parent message per candidate appears in the review channel.
        parent = await eventually(lambda: next(iter(w.slack.messages(REVIEW_CHANNEL)), None))
        assert "Jane Doe" in visible_text(parent) and "0/2" in visible_text(parent)

        await jane.send_command("/start", token)
        consent = await jane.wait_for_message("Do you agree?")
        assert [label for label, _ in consent.buttons()] == ["I agree", "No, thanks"]
        welcome = jane.inbox()[0]
        assert "Backend Engineer" in (welcome.text or "") and "2 questions" in (welcome.text or "")

        await jane.press("I agree")
        got_it = await answer_question(
            jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
        )
        assert "Got it: 7 s (take 1 of 3)" in (got_it.text or "")
        await answer_question(
            jane, 2, 2, lambda: jane.send_video_note(SAMPLES / "answer2.mp4", duration=6)
        )
        await jane.wait_for_message("you've submitted all 2 answers")

        # Each answer is posted at once, then edited in place when its transcript arrives;
        # its recording (the very file the candidate sent) follows it in the thread.
        def transcribed() -> list[SlackMessage]:
            thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
            answers = [m for m in thread if m.text.startswith("*Q")]
            done = len(answers) == 2 and all("pending" not in m.text for m in answers)
            return thread if done and len(thread) == 5 else []

        thread = await eventually(transcribed, seconds=120, what="two transcribed answers")
        first, first_file, second, second_file, done = thread
        assert "Q1." in first.text and "payment" in first.text.lower()
        assert "monitoring" in first.text.lower()
        assert "Q2." in second.text and "mentoring" in second.text.lower()
        assert first.edits == 1 and second.edits == 1  # edited, never re-posted
        assert "completed" in done.text
        [voice_note] = first_file.files
        assert_uploaded_recording(voice_note.data, SAMPLES / "answer1.ogg")
        assert voice_note.filename.endswith(".m4a")
        [video_note] = second_file.files
        assert_uploaded_recording(video_note.data, SAMPLES / "answer2.mp4")
        assert all(f.thread_ts == parent.ts for f in w.slack.files)
        assert "2/2" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])

        # A teammate votes; the tally on the parent message updates in place.
        await tom.click("vote_yes", message=w.slack.messages(REVIEW_CHANNEL)[0])
        await eventually(
            lambda: "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]), what="tally"
        )
        assert len(w.slack.messages(REVIEW_CHANNEL)) == 1  # updated, never re-posted

        # The recruiter advances; the candidate hears it on Telegram.
        reply = await rita.slash("/hire", "advance Jane Doe", REVIEW_CHANNEL)
        assert "advanced to Live interview" in (reply.text or "")
        news = await jane.wait_for_message("Good news")
        assert "Live interview" in (news.text or "")
        await eventually(
            lambda: any("advanced" in m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)),
            what="the decision noted in the thread",
        )

        # What was stored: rows, files named by content hash, the token only as a hash.
        await eventually(
            lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0,
            what="the outbox to drain",
        )
        engine = make_engine(database_url)
        with Session(engine) as session:
            interview = session.exec(select(Interview)).one()
            assert interview.status == "completed" and interview.stage == "Live interview"
            assert interview.token_hash == hashlib.sha256(token.encode()).hexdigest()
            answers = session.exec(select(Answer).order_by(Answer.id)).all()  # type: ignore[arg-type]
            assert [a.media_kind for a in answers] == ["voice", "video_note"]
            for answer, sample in zip(answers, ["answer1.ogg", "answer2.mp4"], strict=True):
                assert isinstance(w.bot.media, MediaFolder)  # the default: nothing configured
                stored = w.bot.media.path(answer.media_path or "")
                assert stored.read_bytes() == (SAMPLES / sample).read_bytes()
                assert answer.media_sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
                assert stored.stat().st_mode & 0o077 == 0  # private to the bot's user
                assert answer.transcript_status == "done"
                assert answer.duration_seconds == pytest.approx(
                    answer.telegram_duration or 0, abs=1.0
                )
            assert [(v.reviewer, v.choice) for v in session.exec(select(Vote))] == [
                (TEAMMATE, "yes")
            ]
            rows = session.exec(select(OutboxMessage)).all()
            assert rows and all(m.status == OutboxStatus.SENT for m in rows)
            assert session.exec(select(ProcessedEvent)).first() is not None
        engine.dispose()
        assert token not in _all_text(tmp_path)


def _all_text(root: Path) -> str:
    """Every byte hirebot wrote under its data dir, as text (for secrets that must not be)."""
    return "".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file())
