from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bot.errors import MediaError
from bot.transcription.media import decode_audio, is_silent, probe
from tests.helpers.media import (
    ANSWER1_OGG,
    ANSWER1_SECONDS,
    ANSWER2_MP4,
    ANSWER2_OGG,
    ANSWER2_SECONDS,
    tone,
    write_wav,
)


def test_probe_voice_note() -> None:
    info = probe(ANSWER1_OGG)
    assert info.has_audio
    assert not info.has_video
    assert info.format_name == "ogg"
    assert info.audio_codec == "opus"
    assert info.duration_seconds == pytest.approx(ANSWER1_SECONDS, abs=0.2)


def test_probe_video_note() -> None:
    info = probe(ANSWER2_MP4)
    assert info.has_audio
    assert info.has_video
    assert "mp4" in info.format_name
    assert info.audio_codec == "aac"
    assert info.duration_seconds == pytest.approx(ANSWER2_SECONDS, abs=0.2)


@pytest.mark.parametrize(
    ("path", "seconds"),
    [
        (ANSWER1_OGG, ANSWER1_SECONDS),
        (ANSWER2_OGG, ANSWER2_SECONDS),
        (ANSWER2_MP4, ANSWER2_SECONDS),
    ],
)
def test_decode_gives_16k_mono_float32(path: Path, seconds: float) -> None:
    samples = decode_audio(path)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert len(samples) / 16_000 == pytest.approx(seconds, abs=0.2)
    assert float(np.abs(samples).max()) <= 1.0
    assert not is_silent(samples)


def test_decode_other_rate() -> None:
    samples = decode_audio(ANSWER1_OGG, sample_rate=8_000)
    assert len(samples) / 8_000 == pytest.approx(ANSWER1_SECONDS, abs=0.2)


def test_duration_is_decoded_not_claimed(tmp_path: Path) -> None:
    # A WAV cut short keeps a header claiming 2 s; only 1 s of audio is really there.
    full = write_wav(tmp_path / "full.wav", tone(2.0, -20))
    cut = tmp_path / "cut.wav"
    data = full.read_bytes()
    cut.write_bytes(data[: 44 + 16_000 * 2])
    assert probe(cut).duration_seconds == pytest.approx(1.0, abs=0.01)
    assert len(decode_audio(cut)) == pytest.approx(16_000, abs=16)


def test_video_without_audio(video_without_audio: Path) -> None:
    info = probe(video_without_audio)
    assert not info.has_audio
    assert info.has_video
    assert info.audio_codec is None
    with pytest.raises(MediaError, match="no sound track"):
        decode_audio(video_without_audio)


def test_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(np.random.default_rng(7).bytes(20_000))
    with pytest.raises(MediaError):
        probe(junk)
    with pytest.raises(MediaError):
        decode_audio(junk)


def test_truncated_voice_note(tmp_path: Path) -> None:
    # Only the Ogg headers survive: no audio can be decoded from what is left.
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(ANSWER1_OGG.read_bytes()[:1_000])
    with pytest.raises(MediaError):
        probe(cut)
    with pytest.raises(MediaError):
        decode_audio(cut)


def test_truncated_video_note(tmp_path: Path) -> None:
    # The MP4 index (moov) comes last, so a cut file cannot be read at all.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(ANSWER2_MP4.read_bytes()[:20_000])
    with pytest.raises(MediaError):
        decode_audio(cut)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(empty)
    with pytest.raises(MediaError, match="empty"):
        decode_audio(empty)


def test_missing_file_is_not_the_candidates_fault(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decode_audio(tmp_path / "nope.ogg")


def test_media_error_messages_are_sentences(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(512))
    with pytest.raises(MediaError) as caught:
        decode_audio(junk)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".")
    assert "ffmpeg" not in message.lower() and "av." not in message


def test_silent_wav(silent_wav: Path) -> None:
    samples = decode_audio(silent_wav)
    assert len(samples) == 3 * 16_000
    assert is_silent(samples)


def test_is_silent_thresholds() -> None:
    assert is_silent(np.zeros(0, dtype=np.float32))
    assert is_silent(tone(1.0, -60))
    assert not is_silent(tone(1.0, -30))
    # One quiet second in a minute of silence is still someone speaking.
    mostly_quiet = np.zeros(60 * 16_000, dtype=np.float32)
    mostly_quiet[16_000:32_000] = tone(1.0, -35)
    assert not is_silent(mostly_quiet)
