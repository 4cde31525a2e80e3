"""Transcribe answers with faster-whisper (CTranslate2), on the worker's own CPU or GPU."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import ctranslate2
from faster_whisper import WhisperModel

from bot.errors import ConfigError
from bot.flows.ports import Transcript
from bot.transcription import result
from bot.transcription.media import WHISPER_SAMPLE_RATE, FloatArray
from bot.transcription.models import resolve_model

log = logging.getLogger(__name__)

# ctranslate2 defaults to 4 threads; on a small box more would oversubscribe the cores the
# bot's event loop and database also need.
MAX_CPU_THREADS = 4
BEAM_SIZE = 5
# Each answer is short and independent; conditioning on earlier windows mainly lets one
# misheard phrase repeat itself through the rest of the answer.
CONDITION_ON_PREVIOUS_TEXT = False


def cpu_threads(streams: int = 1, cores: int | None = None) -> int:
    """Threads for each of ``streams`` answers transcribed at once: the machine's cores
    shared between them (at least one each), at most MAX_CPU_THREADS."""
    return max(1, min(MAX_CPU_THREADS, (cores or os.cpu_count() or 1) // max(1, streams)))


class FasterWhisperTranscriber:
    """A faster-whisper model, loaded once in ``__init__`` and reused for every answer.

    ``device="auto"`` takes the GPU when CTranslate2 sees one (float16 there) and the CPU
    otherwise (int8: a quarter of float32's memory, about twice as fast, same words on our
    samples). ``transcribe`` blocks; call it from a worker thread: CTranslate2 releases the
    GIL while it computes, so the event loop keeps running. Calls are serialised unless
    ``workers`` > 1, which lets that many threads transcribe at once.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "auto",
        compute_type: str | None = None,
        threads: int = 0,
        workers: int = 1,
        beam_size: int = BEAM_SIZE,
        vad_filter: bool = False,
    ) -> None:
        self.model_name = str(model)
        self.beam_size = beam_size
        # Off by default: Silero VAD clips soft word onsets in short voice notes, and we
        # already refuse fully silent audio before Whisper sees it.
        self.vad_filter = vad_filter
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.device = device
        self.compute_type = compute_type or ("float16" if device == "cuda" else "int8")
        resolved = resolve_model(self.model_name)
        started = time.perf_counter()
        try:
            self._model: Any = WhisperModel(
                str(resolved),
                device=device,
                compute_type=self.compute_type,
                cpu_threads=threads or cpu_threads(workers),
                num_workers=workers,
            )
        except (RuntimeError, ValueError, OSError) as err:
            # ctranslate2 says "unsupported compute type", "CUDA not available", or cannot
            # read model.bin; all are settings the operator has to change.
            raise ConfigError(
                f"Could not load the Whisper model {self.model_name!r} on {device} "
                f"({self.compute_type}): {err}"
            ) from err
        log.info(
            "loaded Whisper model %s on %s/%s in %.2fs",
            resolved,
            device,
            self.compute_type,
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
        "en". Fully silent audio gives a ``no_speech`` transcript without running the model.
        """
        language = result.pick_language(
            language, english_only=self.english_only, known=self._languages, model=self.model_name
        )
        return result.transcribe_chunks(media, language, self._hear)

    def _hear(
        self, samples: FloatArray, language: str | None
    ) -> tuple[list[result.HeardSegment], str, float]:
        started = time.perf_counter()
        raw_segments, info = self._model.transcribe(
            samples,
            language=language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            condition_on_previous_text=CONDITION_ON_PREVIOUS_TEXT,
        )
        # The segments are a lazy generator: the model runs while we iterate.
        heard = [
            result.HeardSegment(
                start=float(s.start),
                end=float(s.end),
                text=str(s.text),
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in raw_segments
        ]
        log.debug(
            "transcribed %.1fs of audio in %.2fs",
            len(samples) / WHISPER_SAMPLE_RATE,
            time.perf_counter() - started,
        )
        return heard, str(info.language), float(info.language_probability)
