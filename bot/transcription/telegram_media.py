"""The hiring team's recordings made into what Telegram plays inline (issue 11), with PyAV.

Telegram plays a voice message from OGG/Opus (``sendVoice``; mono is what its own clients
record), a video from H.264/AAC MP4 (``sendVideo``) and a round video note from a square
H.264/AAC MP4 of at most a minute (``sendVideoNote``). Whatever Slack gave us (an MP4/AAC
voice clip, a WebM upload, a phone's MOV) is decoded and encoded again here, bounded in time
like every other media work (``RelayLimit.CONVERT_SECONDS``). Blocking: run it in the media
pool.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from bot.errors import MediaError
from bot.limits import MediaLimit, RelayLimit
from bot.transcription.media import mux_restamped, probe, transcode_mp4

_UNREADABLE = "it looks damaged or is not audio or video"
_OPUS_RATE = 48_000
_OPUS_BIT_RATE = 32_000  # plenty for a voice
_AAC_BIT_RATE = 96_000
# As media.mux_restamped stamps the frames: at most 30 a second, in milliseconds.
_NOTE_FPS = 30
_TIME_BASE = Fraction(1, 1000)


class TooLong(MediaError):
    """The recording is longer than what may be sent (its length in ``seconds``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:.0f} s")
        self.seconds = seconds

    def __reduce__(self) -> tuple[type[TooLong], tuple[float]]:
        # Raised in a media process (bot.transcription.pool): it crosses back pickled.
        return (TooLong, (self.seconds,))


@dataclass(frozen=True)
class Converted:
    path: Path
    kind: str  # "voice", "video" or "video_note"
    duration_seconds: float


def convert(src: Path, dest_dir: Path, kind: str, *, note_if_fits: bool = False) -> Converted:
    """``src`` as ``kind`` ("voice" or "video"); a video of a minute or less becomes a round
    video note when ``note_if_fits``. Raises TooLong, or MediaError for a file that cannot be
    read or converted in time."""
    deadline = time.monotonic() + RelayLimit.CONVERT_SECONDS
    info = probe(
        src, up_to_seconds=RelayLimit.MAX_SECONDS + 1, budget_seconds=MediaLimit.PROBE_SECONDS
    )
    if not info.complete or info.duration_seconds > RelayLimit.MAX_SECONDS:
        raise TooLong(info.shown_seconds)
    if kind == "video" and not info.has_video:
        kind = "voice"  # a "video" clip with no picture is heard, not watched
    if kind == "voice" and not info.has_audio:
        raise MediaError("it has no sound")
    seconds = info.duration_seconds
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=dest_dir, suffix=".ogg" if kind == "voice" else ".mp4")
    os.close(fd)
    dest = Path(name)
    if kind == "voice":
        _voice(src, dest, seconds, deadline)
    elif note_if_fits and seconds <= RelayLimit.VIDEO_NOTE_SECONDS:
        kind = "video_note"
        _video_note(src, dest, seconds, deadline)
    else:
        transcode_mp4(
            src, dest, until=seconds, budget_seconds=max(0.0, deadline - time.monotonic())
        )
    return Converted(dest, kind, seconds)


def _voice(src: Path, dest: Path, until: float, deadline: float) -> None:
    """Mono OGG/Opus at 48 kHz: what Telegram's clients record and play as a voice message."""
    with _Opened(src) as source, av.open(str(dest), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=_OPUS_RATE)
        stream.layout = "mono"
        stream.bit_rate = _OPUS_BIT_RATE
        try:
            for frame in source.decode(source.streams.audio[0]):
                _in_time(deadline)
                if (frame.time or 0.0) > until:
                    break
                frame.pts = None  # the encoder counts samples itself
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def _video_note(src: Path, dest: Path, until: float, deadline: float) -> None:
    """A square H.264/AAC MP4: the middle of the picture, ``VIDEO_NOTE_SIDE`` a side."""
    side = int(RelayLimit.VIDEO_NOTE_SIDE)
    with _Opened(src) as source, av.open(str(dest), "w", format="mp4") as out:
        in_video = source.streams.video[0]
        in_audio = source.streams.audio[0] if source.streams.audio else None
        video = out.add_stream(
            "libx264", rate=_NOTE_FPS, options={"preset": "veryfast", "crf": "26", "threads": "1"}
        )
        video.width = video.height = side
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = _TIME_BASE
        audio: Any = None
        if in_audio is not None:
            audio = out.add_stream("aac", rate=44_100, options={"aac_coder": "fast"})
            audio.layout = "mono"
            audio.bit_rate = _AAC_BIT_RATE
        streams = [s for s in (in_video, in_audio) if s is not None]
        try:
            mux_restamped(
                source,
                streams,
                out,
                audio,
                video,
                lambda frame: _square(frame, side),
                until,
                lambda: _in_time(deadline),
            )
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def _square(frame: Any, side: int) -> Any:
    """The middle square of ``frame``, scaled to ``side``, as yuv420p."""
    pixels = frame.to_ndarray(format="rgb24")
    height, width = pixels.shape[:2]
    edge = min(width, height)
    top, left = (height - edge) // 2, (width - edge) // 2
    square = np.ascontiguousarray(pixels[top : top + edge, left : left + edge])
    picture = av.VideoFrame.from_ndarray(square, format="rgb24")
    return picture.reformat(side, side, "yuv420p")


class _Opened:
    """``av.open`` for reading, its failures as MediaError (the recruiter's own file)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._container: Any = None

    def __enter__(self) -> Any:
        try:
            self._container = av.open(str(self._path), mode="r")
        except (av.FFmpegError, ValueError) as err:
            raise MediaError(_UNREADABLE) from err
        return self._container

    def __exit__(self, *exc: object) -> None:
        self._container.close()


def _in_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise MediaError("converting it took too long")


def convert_bytes(
    data: bytes, suffix: str, kind: str, note_if_fits: bool
) -> tuple[Converted, bytes]:
    """``convert`` of a recording held in memory, in a private temporary folder deleted
    afterwards: the converted recording and its bytes. Blocking: run it in the media
    processes (bot.transcription.pool.run_media)."""
    with tempfile.TemporaryDirectory(prefix="hirebot-relay-") as folder:
        source = Path(folder) / f"source{suffix}"
        source.write_bytes(data)
        converted = convert(source, Path(folder) / "out", kind, note_if_fits=note_if_fits)
        return converted, converted.path.read_bytes()
