"""Media for the transcription tests: the shipped samples, and small files made with PyAV."""

from __future__ import annotations

import importlib.util
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

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


TORCH_MISSING = importlib.util.find_spec("torch") is None or (
    importlib.util.find_spec("whisper") is None
)
