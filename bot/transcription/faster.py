"""Transcribe answers with faster-whisper (CTranslate2), on the worker's own CPU or GPU."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faster_whisper import WhisperModel

from bot.errors import ConfigError
from bot.flows.ports import Segment, Transcript
from bot.transcription.media import WHISPER_SAMPLE_RATE, decode_audio, is_silent
from bot.transcription.models import resolve_model

log = logging.getLogger(__name__)

# Confidence rule (see _is_low_confidence). Whisper's own thresholds: faster-whisper uses
# the same -1.0 / 0.6 / 2.4 values to decide when to retry a window at a higher temperature
# or drop it as silence, so a result past them even after those retries is doubtful.
LOW_MEAN_LOGPROB = -1.0
NO_SPEECH_PROB = 0.6
FEW_WORDS = 3
REPETITIVE_COMPRESSION_RATIO = 2.4

# ctranslate2 defaults to 4 threads; on a small box that oversubscribes the cores the bot's
# event loop and database also need.
_DEFAULT_MAX_THREADS = 4


class FasterWhisperTranscriber:
    """A faster-whisper model, loaded once in ``__init__`` and reused for every answer.

    ``transcribe`` blocks (it runs the model); call it from a worker thread. CTranslate2
    models are safe to share between threads, but calls are serialised unless the model
    was built with several workers, so one transcriber per process is the intended use.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        beam_size: int = 5,
        vad_filter: bool = False,
    ) -> None:
        self.model_name = str(model)
        self.beam_size = beam_size
        # Off by default: Silero VAD clips soft word onsets in short voice notes, and we
        # already refuse fully silent audio before Whisper sees it.
        self.vad_filter = vad_filter
        resolved = resolve_model(self.model_name)
        threads = cpu_threads or min(_DEFAULT_MAX_THREADS, os.cpu_count() or 1)
        started = time.perf_counter()
        try:
            self._model: Any = WhisperModel(
                str(resolved), device=device, compute_type=compute_type, cpu_threads=threads
            )
        except (RuntimeError, ValueError, OSError) as err:
            # ctranslate2 says "unsupported compute type", "CUDA not available", or cannot
            # read model.bin; all are settings the operator has to change.
            raise ConfigError(
                f"Could not load the Whisper model {self.model_name!r} on {device} "
                f"({compute_type}): {err}"
            ) from err
        log.info(
            "loaded Whisper model %s on %s/%s in %.2fs",
            resolved,
            device,
            compute_type,
            time.perf_counter() - started,
        )
        # The ".en" name is a hint; the model itself is the authority (a renamed directory
        # keeps its vocabulary).
        self.english_only: bool = self.model_name.rstrip("/").endswith(".en") or not bool(
            self._model.model.is_multilingual
        )
        self._languages: frozenset[str] = frozenset(self._model.supported_languages)

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        """Transcribe ``media``; raises MediaError when the file cannot be heard at all.

        ``language`` (an ISO 639-1 code) skips detection; English-only models always use
        "en". Fully silent audio returns an empty, low-confidence transcript instead of
        whatever Whisper would invent for it ("Thank you.", "you").
        """
        language = self._pick_language(language)
        samples = decode_audio(media, WHISPER_SAMPLE_RATE)
        duration = len(samples) / WHISPER_SAMPLE_RATE
        if is_silent(samples, WHISPER_SAMPLE_RATE):
            return Transcript(
                text="",
                language=language or "",
                language_probability=0.0,
                duration_seconds=duration,
                segments=(),
                low_confidence=True,
            )
        started = time.perf_counter()
        raw_segments, info = self._model.transcribe(
            samples,
            language=language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            # Each answer is short and independent; conditioning on earlier windows mainly
            # lets one misheard phrase repeat itself through the rest of the answer.
            condition_on_previous_text=False,
        )
        # The segments are a lazy generator: the model runs while we iterate.
        heard = list(raw_segments)
        log.debug(
            "transcribed %.1fs of %s in %.2fs", duration, media.name, time.perf_counter() - started
        )
        segments = tuple(
            Segment(start=float(s.start), end=float(s.end), text=s.text.strip())
            for s in heard
            if s.text.strip()
        )
        return Transcript(
            text=" ".join(s.text for s in segments),
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration_seconds=duration,
            segments=segments,
            low_confidence=_is_low_confidence(heard),
        )

    def _pick_language(self, language: str | None) -> str | None:
        if self.english_only:
            if language not in (None, "en"):
                log.warning(
                    "model %s is English-only; ignoring language=%r", self.model_name, language
                )
            return "en"
        if language is not None and language not in self._languages:
            raise ConfigError(
                f"Whisper does not know the language code {language!r}; "
                "use a two-letter code such as 'en', 'de' or 'es'."
            )
        return language


def _is_low_confidence(segments: Sequence[Any]) -> bool:
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
    mean_logprob = sum(float(s.avg_logprob) for s in segments) / len(segments)
    if mean_logprob < LOW_MEAN_LOGPROB:
        return True
    for segment, text in zip(segments, texts, strict=True):
        if float(segment.no_speech_prob) > NO_SPEECH_PROB and len(text.split()) <= FEW_WORDS:
            return True
        if float(segment.compression_ratio) > REPETITIVE_COMPRESSION_RATIO:
            return True
    return False
