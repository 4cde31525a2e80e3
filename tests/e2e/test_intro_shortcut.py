""" "Use as intro for opening…": a recruiter's Slack clip becomes what candidates hear first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows.intro_clips import NOT_A_CLIP, REFUSAL
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, SAMPLES, TEAMMATE, World, eventually
from bot.slack.intro_form import CHOOSE, OPENING_BLOCK, QUESTION_BLOCK, SHORTCUT
from bot.transcription.media import playable_copy, probe
from tests.e2e.test_intro_clips import _codecs
from tests.helpers.slack import human_message, number_value, opened_view, picked
from tests.helpers.stories import invite, start_answering


def _root(w: World) -> str:
    """A message of Rita's in the review channel, for clips to be posted under."""
    return human_message(w.slack, REVIEW_CHANNEL, RECRUITER, "Intro takes").ts


async def _private(w: World, user: str, before: int) -> str:
    def found() -> str | None:
        said = w.slack.ephemerals(user)
        return str(said[-1]["text"]) if len(said) > before else None

    return await eventually(found, what="a private answer")


@pytest.mark.slow  # PyAV conversion
async def test_a_recruiters_voice_clip_becomes_the_openings_intro(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        rita = w.slack.teammate(RECRUITER)
        # What Slack's clients record as a voice clip: MP4/AAC, labelled video/mp4 by some.
        m4a = playable_copy(SAMPLES / "answer1.ogg", tmp_path / "clip")
        assert m4a is not None
        clip = await rita.post_file_in_thread(
            REVIEW_CHANNEL,
            _root(w),
            m4a.read_bytes(),
            "audio_message_1.mp4",
            subtype="slack_audio",
            mimetype="video/mp4",
        )
        assert await rita.use_message_shortcut(SHORTCUT, clip) == 200
        form = await opened_view(w, CHOOSE)
        # A question the opening does not have is refused on the form itself.
        values = {OPENING_BLOCK: picked("backend-engineer"), QUESTION_BLOCK: number_value(5)}
        assert await rita.submit_view(form, values) == 200
        assert "questions 1 to 2" in str(w.slack.view_acks[-1]["errors"][QUESTION_BLOCK])
        assert await rita.submit_view(form, {OPENING_BLOCK: picked("backend-engineer")}) == 200
        told = await eventually(
            lambda: next((m for m in w.slack.direct_messages(RECRUITER) if "🎬" in m.text), None)
        )
        assert "Intro for *Backend Engineer* set: a voice clip of 7 s" in told.text

        jane = w.telegram.candidate(730_001, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        voice = next(m for m in jane.inbox() if m.kind == "voice")
        assert voice.file_id is not None
        form_, codecs, seconds, _, _ = _codecs(w.telegram.stored_file(voice.file_id), tmp_path, "v")
        assert (form_, codecs) == ("ogg", ["opus"])
        assert abs(seconds - probe(m4a).duration_seconds) < 0.1


async def test_only_recruiters_and_only_on_a_clip(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path / "data") as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        root = _root(w)
        clip = await tom.post_file_in_thread(
            REVIEW_CHANNEL, root, b"\x00" * 64, "audio_message_2.mp4", subtype="slack_audio"
        )
        before = len(w.slack.ephemerals(TEAMMATE))
        await tom.use_message_shortcut(SHORTCUT, clip)
        assert await _private(w, TEAMMATE, before) == REFUSAL

        said = await rita.reply_in_thread(REVIEW_CHANNEL, root, "No clip here")
        text = w.slack.find_message(REVIEW_CHANNEL, said)
        assert text is not None
        pdf = await rita.post_file_in_thread(REVIEW_CHANNEL, root, b"%PDF-1.4", "cv.pdf")
        for message in (text, pdf):
            before = len(w.slack.ephemerals(RECRUITER))
            await rita.use_message_shortcut(SHORTCUT, message)
            assert await _private(w, RECRUITER, before) == NOT_A_CLIP
        await w.wait_idle()
        assert not [v for v in w.slack.views if v.get("callback_id") == CHOOSE]
