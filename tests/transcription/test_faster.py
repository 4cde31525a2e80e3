from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.errors import ConfigError, MediaError
from bot.flows.ports import Transcriber
from bot.transcription import load_transcriber
from bot.transcription.faster import cpu_threads
from bot.transcription.result import HeardSegment, is_low_confidence
from tests.helpers.media import ANSWER1_OGG, ANSWER1_SECONDS, ANSWER2_MP4


def test_answer1(transcriber: Transcriber) -> None:
    transcript = transcriber.transcribe(ANSWER1_OGG)
    text = transcript.text.lower()
    for word in ("payment", "python", "monitoring"):
        assert word in text
    assert transcript.language == "en"
    assert transcript.language_probability > 0.5
    assert transcript.duration_seconds == pytest.approx(ANSWER1_SECONDS, abs=0.2)
    assert not transcript.low_confidence
    assert transcript.segments
    assert all(s.text and s.end >= s.start for s in transcript.segments)


def test_video_note(transcriber: Transcriber) -> None:
    text = transcriber.transcribe(ANSWER2_MP4).text.lower()
    assert "mentoring" in text
    assert "engineers" in text


def test_english_only_model_pins_english(transcriber: Transcriber) -> None:
    transcript = transcriber.transcribe(ANSWER1_OGG, language="de")
    assert transcript.language == "en"
    assert "payment" in transcript.text.lower()


def test_silence_is_reported_as_no_speech(transcriber: Transcriber, silent_wav: Path) -> None:
    transcript = transcriber.transcribe(silent_wav)
    assert transcript.no_speech
    assert transcript.text == ""
    assert transcript.segments == ()
    assert transcript.low_confidence
    assert transcript.duration_seconds == pytest.approx(3.0)


def test_video_without_audio(transcriber: Transcriber, video_without_audio: Path) -> None:
    with pytest.raises(MediaError, match="no sound track"):
        transcriber.transcribe(video_without_audio)


def test_cache_returns_the_loaded_model(transcriber: Transcriber) -> None:
    started = time.perf_counter()
    assert load_transcriber("faster-whisper", "tiny.en") is transcriber
    assert time.perf_counter() - started < 0.1


def test_unknown_backend() -> None:
    with pytest.raises(ConfigError, match="Unknown transcription backend"):
        load_transcriber("whisper.cpp", "tiny.en")


def _segment(
    text: str, avg_logprob: float = -0.3, no_speech_prob: float = 0.1, ratio: float = 1.2
) -> HeardSegment:
    return HeardSegment(
        start=0.0,
        end=1.0,
        text=text,
        avg_logprob=avg_logprob,
        no_speech_prob=no_speech_prob,
        compression_ratio=ratio,
    )


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ([_segment(" I built a payment service.")], False),
        ([], True),
        ([_segment(" ")], True),
        ([_segment(" I built a payment service.", avg_logprob=-1.3)], True),
        ([_segment(" Thank you.", no_speech_prob=0.8)], True),
        # Plenty of words: a high no-speech score alone is not enough to doubt them.
        ([_segment(" I built a payment service in Python last year.", no_speech_prob=0.8)], False),
        ([_segment(" the the the the the the the the", ratio=3.1)], True),
        ([_segment(" Fine.", avg_logprob=-0.2), _segment(" Also fine.", avg_logprob=-1.5)], False),
    ],
)
def test_low_confidence_rule(segments: list[HeardSegment], expected: bool) -> None:
    assert is_low_confidence(segments) is expected


def test_answers_at_once_share_the_cores_between_them() -> None:
    assert cpu_threads(1, cores=2) == 2
    assert cpu_threads(2, cores=2) == 1  # the embedded default on this machine
    assert cpu_threads(4, cores=2) == 1  # at least one each
    assert cpu_threads(4, cores=16) == 4
    assert cpu_threads(1, cores=64) == 4  # at most MAX_CPU_THREADS
