"""Recordings the candidate stories send, made on the spot with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bot.bench.media import long_mp3, mux_mono
from bot.sandbox.world import SAMPLES
from bot.transcription.media import decode_audio

__all__ = [
    "long_mp3",
    "silent_video",
    "speech_voice_note",
    "tone_voice_note",
    "video_with_audio",
]


def tone_voice_note(path: Path, seconds: float, amplitude: float = 0.2) -> Path:
    """An OGG/Opus voice note of a tone (silence with ``amplitude=0``), ``seconds`` long."""
    rate = 48_000
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(rate * seconds)) / rate
        samples = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        mux_mono(container, stream, samples, rate, frame_size=960)
        container.mux(stream.encode(None))
    return path


def silent_video(path: Path, seconds: int = 2) -> Path:
    """An MP4 video with no audio track at all."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = 64, 64
        stream.pix_fmt = "yuv420p"
        for i in range(seconds * 10):
            image = np.full((64, 64, 3), i * 5 % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def video_with_audio(
    path: Path,
    *,
    width: int,
    height: int,
    video_seconds: float,
    audio_seconds: float,
    fps: int = 2,
    format: str = "mp4",
) -> Path:
    """H.264 + AAC (in MP4 unless ``format`` says otherwise) whose picture and sound may
    have different lengths."""
    with av.open(str(path), "w", format=format) as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=16_000)
        audio.layout = "mono"
        image = np.full((height, width, 3), 90, dtype=np.uint8)
        for index in range(round(video_seconds * fps)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        t = np.arange(round(audio_seconds * 16_000)) / 16_000
        sound = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        mux_mono(container, audio, sound, 16_000, frame_size=1024)
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path


def speech_voice_note(path: Path, seconds: float) -> Path:
    """An OGG/Opus voice note of the demo's first answer said over and over, ``seconds`` long."""
    rate = 48_000
    speech = decode_audio(SAMPLES / "answer1.ogg", rate)
    samples = np.resize(speech, round(seconds * rate)).astype(np.float32)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        mux_mono(container, stream, samples, rate, frame_size=960)
        container.mux(stream.encode(None))
    return path
