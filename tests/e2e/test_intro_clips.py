"""Intro clips: the team's voice before the questions, through the real PTB and the sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import pytest
from sqlmodel import select

from bot.limits import RelayLimit
from bot.sandbox.telegram import SentMessage
from bot.sandbox.world import (
    OPENING_FILE,
    RECRUITER,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
)
from bot.transcription.media import probe
from storage.models import AuditEvent, IntroClip
from tests.helpers.slack import hire
from tests.helpers.stories import invite, start_answering


def _opening_with_intros(folder: Path, *, opening: str | None, question_2: str | None) -> Path:
    """The sample opening, with an intro clip for the opening and for question 2."""
    for sample in ("answer1.ogg", "answer2.mp4"):
        shutil.copy(SAMPLES / sample, folder / sample)
    text = OPENING_FILE.read_text()
    if opening is not None:
        text = text.replace("deadline_days: 7", f"deadline_days: 7\nintro: {opening}")
    if question_2 is not None:
        text = text.replace("    max_takes: 2\n", f"    max_takes: 2\n    intro: {question_2}\n", 1)
    path = folder / "opening.yaml"
    path.write_text(text)
    return path


def _codecs(data: bytes, folder: Path, name: str) -> tuple[str, list[str], float, int, int]:
    copy = folder / name
    copy.write_bytes(data)
    with av.open(str(copy)) as container:
        codecs = [str(s.codec_context.name) for s in container.streams]
        video = container.streams.video[0] if container.streams.video else None
        size = (video.codec_context.width, video.codec_context.height) if video else (0, 0)
        form = str(container.format.name)
    return form, codecs, probe(copy).duration_seconds, *size


def _index(inbox: list[SentMessage], kind: str) -> int:
    return next(i for i, m in enumerate(inbox) if m.kind == kind)


async def test_intro_plays_after_consent_before_question_one_and_is_uploaded_once(
    tmp_path: Path, database_url: str
) -> None:
    yaml = _opening_with_intros(tmp_path, opening="answer1.ogg", question_2="answer2.mp4")
    async with World(data_dir=tmp_path / "data", database_url=database_url, opening_file=yaml) as w:
        jane = w.telegram.candidate(710_001, "Jane", "Doe")
        await start_answering(w, jane, await invite(w, "Jane Doe"))

        # After "I agree": the opening's voice clip, then question 1's intro.
        inbox = jane.inbox()
        voice, question = _index(inbox, "voice"), _index(inbox, "text")
        consent = next(i for i, m in enumerate(inbox) if "Do you agree?" in (m.text or ""))
        first = next(i for i, m in enumerate(inbox) if "Question 1 of 2." in (m.text or ""))
        assert consent < voice < first, [(m.kind, m.text) for m in inbox]
        assert question < voice
        # The very bytes Telegram got: OGG/Opus of the recording's length.
        clip = inbox[voice]
        assert clip.file_id is not None
        form, codecs, seconds, _, _ = _codecs(w.telegram.stored_file(clip.file_id), tmp_path, "v")
        assert (form, codecs) == ("ogg", ["opus"])
        assert abs(seconds - probe(SAMPLES / "answer1.ogg").duration_seconds) < 0.1
        upload = w.telegram.calls_of("sendVoice")[0]
        assert upload.params["duration"] == 7

        # Question 2's clip (a square video) comes as a round video note before its intro.
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", 7))
        second = await jane.wait_for_message("Question 2 of 2.")
        note = next(m for m in jane.inbox() if m.kind == "video_note")
        assert jane.inbox().index(note) < jane.inbox().index(second)
        assert note.file_id is not None
        form, codecs, seconds, width, height = _codecs(
            w.telegram.stored_file(note.file_id), tmp_path, "n"
        )
        assert codecs == ["h264", "aac"] and width == height == RelayLimit.VIDEO_NOTE_SIDE
        assert abs(seconds - probe(SAMPLES / "answer2.mp4").duration_seconds) < 0.1

        # The second candidate gets the same clip by Telegram's file id: no second upload.
        joe = w.telegram.candidate(710_002, "Joe", "Bloggs")
        await start_answering(w, joe, await invite(w, "Joe Bloggs"))
        again = next(m for m in joe.inbox() if m.kind == "voice")
        assert again.file_id == clip.file_id
        sends = w.telegram.calls_of("sendVoice")
        assert len(sends) == 2 and sends[1].params["voice"] == clip.file_id

        clips = w.bot.uow.run_sync(lambda s, _now: s.exec(select(IntroClip)).all())
        assert {c.telegram_file_id for c in clips} == {clip.file_id, note.file_id}


async def test_erasing_a_candidate_keeps_the_intro_and_removing_it_deletes_its_file(
    tmp_path: Path, database_url: str
) -> None:
    yaml = _opening_with_intros(tmp_path, opening="answer1.ogg", question_2="answer2.mp4")
    async with World(data_dir=tmp_path / "data", database_url=database_url, opening_file=yaml) as w:
        jane = w.telegram.candidate(710_003, "Jane", "Doe")
        await start_answering(w, jane, await invite(w, "Jane Doe"))
        mark = len(jane.inbox())
        await jane.send_command("/delete_my_data")
        confirm = await eventually(
            lambda: next((m for m in jane.inbox()[mark:] if m.buttons()), None)
        )
        await jane.press("Yes, delete everything", confirm)
        await jane.wait_for_message("Done: your recordings", after=mark)
        await w.wait_idle()
        clips = w.bot.uow.run_sync(lambda s, _now: s.exec(select(IntroClip)).all())
        stored = {c.question_position: w.settings().media_dir / c.media_path for c in clips}
        assert sorted(stored, key=str) == [1, None] and all(p.is_file() for p in stored.values())

        # Re-importing the same files converts nothing.
        w.import_opening(yaml)
        again = w.bot.uow.run_sync(lambda s, _now: s.exec(select(IntroClip)).all())
        assert {c.media_path for c in again} == {c.media_path for c in clips}

        # In Slack: recruiters list and remove clips; the file goes with the clip.
        listed = await hire(w, RECRUITER, "intro backend-engineer")
        assert "after consent: a voice clip of 7 s" in listed
        assert "before question 2: a round video note of 6 s" in listed
        assert "Only recruiters" in await hire(w, TEAMMATE, "intro backend-engineer remove 2")
        assert "questions 1 to 2" in await hire(w, RECRUITER, "intro backend-engineer remove 3")
        removed = await hire(w, RECRUITER, "intro backend-engineer remove 2")
        assert "Removed *Backend Engineer*'s question 2's intro clip" in removed
        assert not stored[1].exists() and stored[None].is_file()
        assert "no question 2's intro clip" in await hire(
            w, RECRUITER, "intro backend-engineer remove 2"
        )

        # `intro: none` in the file removes the opening's clip and its file.
        stored_file = stored[None]
        w.import_opening(_opening_with_intros(tmp_path, opening="none", question_2=None))
        assert w.bot.uow.run_sync(lambda s, _now: s.exec(select(IntroClip)).all()) == []
        events = w.bot.uow.run_sync(lambda s, _now: s.exec(select(AuditEvent)).all())
        actions = [e.action for e in events]
        assert not stored_file.exists()
        assert actions.count("opening.intro_set") == 2
        assert actions.count("opening.intro_removed") == 2


@pytest.mark.parametrize("bad", ["missing.ogg", "opening.yaml"])
def test_an_intro_that_is_not_a_recording_refuses_the_import(tmp_path: Path, bad: str) -> None:
    from bot.errors import OpeningFileError
    from bot.flows import openings
    from bot.media import intros
    from bot.unit_of_work import opened
    from storage import migrate

    yaml = _opening_with_intros(tmp_path, opening=bad, question_2=None)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate.upgrade(url)
    with pytest.raises(OpeningFileError) as refused:
        spec = openings.parse(yaml)
        with opened(url, tmp_path / "media") as uow:
            intros.prepare(uow, spec)
    assert bad in str(refused.value)
