"""A team member's recording made into what Telegram plays inline (bot.media.telegram_formats)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from bot.errors import MediaError
from bot.media.telegram_formats import ClipKind, Shape, convert
from bot.transcription.media import probe
from tests.helpers.media import ANSWER1_OGG, CONTAINERS, encode, tone, write_wav

WEBM_VIDEO = next(c for c in CONTAINERS if c.name == "webm vp8-opus video")
M4A = next(c for c in CONTAINERS if c.name == "m4a aac")


def _streams(path: Path) -> tuple[str, list[str]]:
    with av.open(str(path)) as container:
        return str(container.format.name), [str(s.codec_context.name) for s in container.streams]


def test_a_voice_becomes_mono_ogg_opus_of_the_same_length(tmp_path: Path) -> None:
    source = encode(tone(4.0, -20), tmp_path / "voice.m4a", M4A)
    clip = convert(source, tmp_path / "out")
    assert clip.kind == ClipKind.VOICE and clip.path.suffix == ".ogg"
    assert _streams(clip.path) == ("ogg", ["opus"])
    assert abs(clip.duration_seconds - probe(source).duration_seconds) < 0.1
    assert clip.path.stat().st_mode & 0o777 == 0o600


def test_a_square_webm_video_becomes_a_round_note_unless_a_video_is_asked_for(
    tmp_path: Path,
) -> None:
    source = encode(tone(3.0, -20), tmp_path / "clip.webm", WEBM_VIDEO)
    note = convert(source, tmp_path / "out")
    assert (note.kind, note.width, note.height) == (ClipKind.VIDEO_NOTE, 64, 64)
    assert _streams(note.path)[1] == ["h264", "aac"]
    video = convert(source, tmp_path / "out", shape=Shape.VIDEO)
    assert video.kind == ClipKind.VIDEO
    assert abs(video.duration_seconds - 3.0) < 0.1


def test_too_long_or_not_a_recording_is_refused_with_the_numbers(tmp_path: Path) -> None:
    long = write_wav(tmp_path / "long.wav", tone(12.0, -20))
    with pytest.raises(MediaError, match=r"12 s long; a clip for Telegram may last at most 10 s"):
        convert(long, tmp_path / "out", max_seconds=10)
    video = encode(tone(61.0, -20), tmp_path / "clip.webm", WEBM_VIDEO)
    with pytest.raises(MediaError, match=r"round video note lasts at most 60 s.*is 61 s"):
        convert(video, tmp_path / "out", shape=Shape.NOTE)
    text = tmp_path / "notes.txt"
    text.write_text("not a recording")
    with pytest.raises(MediaError, match="not a recording I can read"):
        convert(text, tmp_path / "out")
    assert list((tmp_path / "out").glob(".converting-*")) == []


def test_the_shipped_voice_sample_converts(tmp_path: Path) -> None:
    assert convert(ANSWER1_OGG, tmp_path).kind == ClipKind.VOICE
