"""What both Whisper backends share: picking the language, judging confidence, the Transcript.

A backend decodes the file, refuses silence, runs its model and hands the segments it heard
to :func:`transcript`; so faster-whisper and openai-whisper answers read the same to reviewers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import ConfigError
from bot.flows.ports import Segment, Transcript
from bot.transcription.media import WHISPER_SAMPLE_RATE, FloatArray, audio_chunks, is_silent

log = logging.getLogger(__name__)

# Confidence rule (see is_low_confidence). Whisper's own thresholds: both backends use the
# same -1.0 / 0.6 / 2.4 values to decide when to retry a window at a higher temperature or
# drop it as silence, so a result past them even after those retries is doubtful.
LOW_MEAN_LOGPROB = -1.0
NO_SPEECH_PROB = 0.6
FEW_WORDS = 3
REPETITIVE_COMPRESSION_RATIO = 2.4


@dataclass(frozen=True)
class HeardSegment:
    """One window of a backend's output, with the scores the confidence rule reads."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


# A backend's model run over one chunk of audio, in the language given (None: detect it):
# what it heard (times from the chunk's start), the language, and how sure it is of it.
Hear = Callable[[FloatArray, str | None], tuple[list[HeardSegment], str, float]]


def transcribe_chunks(media: Path, language: str | None, hear: Hear) -> Transcript:
    """Run ``hear`` over ``media`` chunk by chunk (MediaLimit.DECODE_CHUNK_SECONDS each, at
    most MediaLimit.MAX_KEPT_SECONDS in all), so memory stays the same whatever the file's
    length; raises MediaError when it cannot be heard at all.

    Silent chunks are skipped (Whisper invents "Thank you." over silence); a recording that
    is silent throughout gets the :func:`silence` transcript. The language found in the
    first chunk with sound is kept for the rest, so one answer reads in one language.
    """
    heard: list[HeardSegment] = []
    offset = 0.0
    detected: tuple[str, float] | None = None
    for samples in audio_chunks(media, sample_rate=WHISPER_SAMPLE_RATE):
        if not is_silent(samples):
            segments, found, probability = hear(samples, language)
            if detected is None:
                detected, language = (found, probability), found
            heard.extend(replace(s, start=s.start + offset, end=s.end + offset) for s in segments)
        offset += samples.size / WHISPER_SAMPLE_RATE
    if detected is None:
        return silence(language, offset)
    return transcript(heard, language=detected[0], probability=detected[1], duration=offset)


def silence(language: str | None, duration_seconds: float) -> Transcript:
    """The answer to a silent recording, instead of whatever Whisper would invent for it
    ("Thank you.", "you")."""
    return Transcript(
        text="",
        language=language or "",
        language_probability=0.0,
        duration_seconds=duration_seconds,
        low_confidence=True,
        no_speech=True,
    )


def pick_language(
    requested: str | None, *, english_only: bool, known: Collection[str], model: str
) -> str | None:
    """The language to pin, or None to let the model detect it.

    An opening in one language pins it (faster, and no misdetection on a short answer); a
    multilingual opening passes None. English-only models always get "en".
    """
    if english_only:
        if requested not in (None, "en"):
            log.warning("model %s is English-only; ignoring language=%r", model, requested)
        return "en"
    if requested is not None and requested not in known:
        raise ConfigError(
            f"Whisper does not know the language code {requested!r}; "
            "use a two-letter code such as 'en', 'de' or 'es'."
        )
    return requested


def transcript(
    heard: Sequence[HeardSegment], *, language: str, probability: float, duration: float
) -> Transcript:
    segments = tuple(
        Segment(start=s.start, end=s.end, text=s.text.strip()) for s in heard if s.text.strip()
    )
    return Transcript(
        text=" ".join(s.text for s in segments),
        language=language,
        language_probability=probability,
        duration_seconds=duration,
        segments=segments,
        low_confidence=is_low_confidence(heard),
    )


def is_low_confidence(segments: Sequence[HeardSegment]) -> bool:
    """Whether a reviewer should be told the transcript may be wrong.

    Low confidence when any of these holds:

    * Whisper produced no text at all;
    * the mean of the segments' ``avg_logprob`` is below -1.0 (the model was guessing);
    * a segment has ``no_speech_prob`` above 0.6 yet at most three words: the typical
      shape of text invented over noise or silence ("Thank you.", "Bye.");
    * a segment's ``compression_ratio`` is above 2.4: the model was stuck repeating itself.
    """
    texts = [s.text.strip() for s in segments]
    if not any(texts):
        return True
    mean_logprob = sum(s.avg_logprob for s in segments) / len(segments)
    if mean_logprob < LOW_MEAN_LOGPROB:
        return True
    for segment, text in zip(segments, texts, strict=True):
        if segment.no_speech_prob > NO_SPEECH_PROB and len(text.split()) <= FEW_WORDS:
            return True
        if segment.compression_ratio > REPETITIVE_COMPRESSION_RATIO:
            return True
    return False
