"""Speech to text for candidates' answers.

``load_transcriber`` hands out one loaded model per (backend, model) for the whole process:
loading takes seconds and hundreds of MB, so every worker thread shares it.
"""

from __future__ import annotations

import os
import threading

from bot.errors import ConfigError
from bot.flows.ports import Transcriber
from bot.transcription.cli import register

__all__ = ["BACKENDS", "load_transcriber", "register"]

BACKENDS = ("faster-whisper", "openai-whisper")

# CTranslate2 and torch run on OpenMP, whose idle threads spin for work by default: between
# answers they would keep the cores busy that the bot's event loop needs to ack Slack within
# 3 s. Passive threads sleep instead (measured in the test suite: two transcribing processes
# went from 29-35 s CPU to 18-20 s for the same work). Set before either library is imported;
# an operator's own OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Not OPENBLAS_NUM_THREADS=1, though numpy's OpenBLAS threads spin at normal priority after
# each use (about 9 % of a core each in a transcribing process): under `hirebot bench load`
# (200 candidates, 2 cores) one BLAS thread made the candidates wait longer, ack p50/p99
# 352/1833 ms against 148/843 ms, answers in Slack 3.2 s after Submit against 0.7 s.

_cache: dict[tuple[str, str, int], Transcriber] = {}
# Held while loading, so two threads asking at once load the model once, not twice.
_lock = threading.Lock()


def load_transcriber(backend: str, model: str, *, workers: int = 1) -> Transcriber:
    """Return the process-wide transcriber for ``backend`` and ``model``, loading it once.

    ``workers``: how many threads may transcribe at once (the TranscriptionWorker's
    concurrency); faster-whisper then keeps that many model replicas' state, sharing weights.
    """
    key = (backend, model, workers)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        transcriber = _load(backend, model, workers)
        _cache[key] = transcriber
        return transcriber


def _load(backend: str, model: str, workers: int) -> Transcriber:
    if backend == "faster-whisper":
        # Imported here: faster-whisper pulls in ctranslate2 and onnxruntime, which modules
        # that only need the types (or the openai-whisper backend) should not pay for.
        from bot.transcription.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(model, workers=workers)
    if backend == "openai-whisper":
        # Imported here too: torch takes seconds and hundreds of MB to import.
        from bot.transcription.openai_whisper import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(model)
    raise ConfigError(
        f"Unknown transcription backend {backend!r}; choose one of: {', '.join(BACKENDS)}."
    )
