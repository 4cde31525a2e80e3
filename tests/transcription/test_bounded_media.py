"""A file's size says nothing about its length: every piece of media work stops at a bound
(the question's limit, the ceiling of what is kept, a time budget, a picture size)."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from bot.errors import MediaError
from bot.limits import MediaLimit
from bot.transcription.media import (
    WHISPER_SAMPLE_RATE,
    audio_chunks,
    keep_first,
    playable_copy,
    probe,
)
from tests.candidate.media_files import long_mp3, video_with_audio
from tests.helpers.media import ANSWER1_OGG

UNREADABLE = (
    "We couldn't open this file: it looks damaged or isn't a recording we can play. "
    "Please record your answer again as a voice or video message."
)


@pytest.fixture(scope="module")
def hours_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three hours of sound in 10 MB: what a 20 MB upload limit lets through."""
    return long_mp3(tmp_path_factory.mktemp("long") / "hours.mp3", 3 * 3600, amplitude=0.1)


def test_probe_stops_at_the_limit_it_is_given_and_reports_the_headers_claim(
    hours_long: Path,
) -> None:
    info = probe(hours_long, up_to_seconds=130)
    assert not info.complete, "decoding stopped at the limit: the file goes on"
    assert 130 <= info.duration_seconds < 131
    assert info.claimed_seconds == pytest.approx(3 * 3600, rel=0.01)
    assert info.shown_seconds == info.claimed_seconds


def test_probe_never_decodes_past_the_ceiling(hours_long: Path) -> None:
    info = probe(hours_long)
    assert not info.complete
    assert info.duration_seconds == pytest.approx(MediaLimit.MAX_KEPT_SECONDS, abs=0.2)


def test_a_file_within_the_limit_is_measured_to_its_end() -> None:
    info = probe(ANSWER1_OGG, up_to_seconds=60)
    assert info.complete and info.shown_seconds == info.duration_seconds


def test_a_probe_past_its_time_budget_is_refused_as_unreadable(hours_long: Path) -> None:
    with pytest.raises(MediaError) as refused:
        probe(hours_long, budget_seconds=0)
    assert str(refused.value) == UNREADABLE


def test_audio_reaches_whisper_in_bounded_chunks_and_never_past_the_ceiling(
    hours_long: Path,
) -> None:
    biggest = total = 0
    for chunk in audio_chunks(hours_long, chunk_seconds=600, max_seconds=1500):
        assert chunk.dtype.name == "float32"
        biggest, total = max(biggest, chunk.size), total + chunk.size
    assert 595 * WHISPER_SAMPLE_RATE <= biggest <= 600 * WHISPER_SAMPLE_RATE
    assert total == 1500 * WHISPER_SAMPLE_RATE


def test_a_chunk_ends_in_the_speakers_pause_not_mid_word(tmp_path: Path) -> None:
    # A tone (the "speech") with one second of silence at 57.5 s, then more tone.
    rate = WHISPER_SAMPLE_RATE
    t = np.arange(70 * rate) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    samples[int(57.5 * rate) : int(58.5 * rate)] = 0
    path = tmp_path / "pause.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    first, second = audio_chunks(path, chunk_seconds=60)
    assert 57.5 * rate < first.size < 58.5 * rate
    assert first.size + second.size == 70 * rate
    assert abs(float(first[-1])) < 1e-3 and abs(float(second[0])) < 1e-3


def test_only_the_measured_part_of_a_long_recording_is_kept(
    hours_long: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.mkv"
    keep_first(hours_long, kept, 90)
    info = probe(kept)
    assert info.complete and info.duration_seconds == pytest.approx(90, abs=0.5)
    assert kept.stat().st_size < hours_long.stat().st_size / 50


def test_slack_copy_of_a_4k_video_is_scaled_down(tmp_path: Path) -> None:
    source = video_with_audio(
        tmp_path / "4k.webm.mp4", width=3840, height=2160, video_seconds=1, audio_seconds=1
    )
    # An MP4 that Slack would play as is, but far too large to send reviewers.
    copy = playable_copy(source, tmp_path / "out")
    assert copy is not None
    with av.open(str(copy)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)


def test_a_video_longer_than_its_sound_buys_no_encoding_past_the_sound(tmp_path: Path) -> None:
    # Matroska: Slack does not play it, so it is converted.
    source = video_with_audio(
        tmp_path / "long-picture.mkv",
        width=320,
        height=240,
        video_seconds=600,
        audio_seconds=3,
        format="matroska",
    )
    copy = playable_copy(source, tmp_path / "out", max_seconds=60)
    assert copy is not None
    with av.open(str(copy)) as container:
        seconds = float(container.duration or 0) / av.time_base
    assert seconds < 4


def test_a_slack_copy_past_its_time_budget_is_refused(tmp_path: Path) -> None:
    source = video_with_audio(
        tmp_path / "v.mp4", width=1280, height=720, video_seconds=2, audio_seconds=2
    )
    with pytest.raises(MediaError):
        playable_copy(source, tmp_path / "out", budget_seconds=0)
    assert not list((tmp_path / "out").glob("*")), "no partial copy left behind"
