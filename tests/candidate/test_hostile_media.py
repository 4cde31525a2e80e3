"""Recordings that lie about their size: hours packed into a few megabytes.

The bot measures a recording no further than the question needs, refuses it in strict mode
with the real numbers, and in soft mode keeps (stores, transcribes, shows) only up to the
ceiling, telling reviewers it was cut.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox.world import REVIEW_CHANNEL, SAMPLES, World, eventually
from bot.transcription.media import probe
from storage.models import Answer, Interview
from tests.candidate.media_files import long_mp3
from tests.helpers.candidate import answers_stored, begin_three_questions, three_question_opening

# Measures, cuts, stores and transcribes half an hour of audio.
pytestmark = pytest.mark.slow


async def test_hours_long_voice_note_is_refused_in_strict_mode_with_its_real_length(
    tmp_path: Path,
) -> None:
    # Three hours in 10 MB; the candidate's app claims 9 s.
    hours = long_mp3(tmp_path / "hours.mp3", 3 * 3600, amplitude=0.1)
    async with World(data_dir=tmp_path / "d", opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 3:")
        mark = len(jane.inbox())
        await jane.send_voice(hours, duration=9)
        refusal = await jane.wait_for_message(after=mark)
        assert refusal.text == (
            "Your answer is 180:35 min long, and this question allows up to 10 s. Please "
            "record a shorter answer — this one wasn't saved and doesn't count as a take."
        )
        assert answers_stored(w) == []
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert (interview.question_index, interview.phase) == (0, "answering")
        await eventually(lambda: not list((tmp_path / "d" / "media").glob("*/*")), what="no file")
        # A real answer still works afterwards.
        await jane.send_voice(SAMPLES / "answer1.ogg")
        await jane.wait_for_message("take 1 of 2")


async def test_hours_long_answer_is_cut_at_the_ceiling_in_soft_mode_and_reviewers_told(
    tmp_path: Path,
) -> None:
    # Silence, so that Whisper skips it: the point is what is kept, not what is heard.
    long_note = long_mp3(tmp_path / "long.mp3", 35 * 60)
    async with World(
        data_dir=tmp_path / "d", opening_file=three_question_opening(tmp_path, strict=False)
    ) as w:
        jane = await begin_three_questions(w)
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 3:")
        mark = len(jane.inbox())
        await jane.send_voice(long_note, duration=9)
        # Measuring 30 minutes takes about a second, more on a busy machine.
        got_it = await jane.wait_for_message("Got it", after=mark, timeout=60)
        await jane.press("Submit ✅", got_it)
        await jane.wait_for_message("Answer 1 submitted", after=mark)
        heads_up = next(m for m in jane.inbox() if "Heads-up" in (m.text or ""))
        assert heads_up.text == "Heads-up: this answer is 35:07 min, over the 10 s suggested."
        [answer] = answers_stored(w)
        assert answer.over_limit and answer.submitted
        assert answer.cut_at_seconds is not None and 1800 <= answer.cut_at_seconds < 1801
        # Only the first 30 minutes are stored.
        assert answer.media_path is not None and answer.media_path.endswith(".mkv")
        kept = probe(tmp_path / "d" / "media" / answer.media_path, up_to_seconds=3600)
        assert kept.complete and 1800 <= kept.duration_seconds < 1801
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        post = await eventually(
            lambda: next(iter(w.slack.thread(REVIEW_CHANNEL, parent.ts)), None), seconds=60
        )
        assert (
            "✂️ cut: the recording is longer; only its first 30:00 is kept and transcribed"
            in post.text
        )
        done = await eventually(
            lambda: w.bot.uow.run_sync(
                lambda s, _now: s.exec(
                    select(Answer).where(Answer.transcript_status == "done")
                ).first()
            ),
            seconds=60,
            what="the transcript",
        )
        assert done.duration_seconds is not None and done.duration_seconds <= 1801
