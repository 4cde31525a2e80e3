"""Recordings the candidate stories send, made on the spot with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def tone_voice_note(path: Path, seconds: float, amplitude: float = 0.2) -> Path:
    """An OGG/Opus voice note of a tone (silence with ``amplitude=0``), ``seconds`` long."""
    rate = 48_000
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(rate * seconds)) / rate
        samples = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(samples), 960):
            chunk = samples[start : start + 960]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
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
