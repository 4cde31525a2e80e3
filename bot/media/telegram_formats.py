"""Convert a team member's recording into what Telegram plays inline, with PyAV.

Telegram shows a voice bubble only for OGG/Opus (``sendVoice``), plays MP4 with H.264/AAC
inline (``sendVideo``), and a round video note only for a square MP4 of at most a minute
(``sendVideoNote``). Slack clips arrive as MP4/AAC or WebM, YAML files as anything: each is
decoded and encoded once here, and the copy is what the media store keeps and Telegram gets.

Blocking and CPU-bound: run it off the event loop (the CLI, a worker thread). Every failure
the person who chose the file can fix is a :class:`~bot.errors.MediaError` whose message
says what to do, with the limit in numbers.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from bot.errors import MediaError
from bot.limits import TelegramMediaLimit
from bot.transcription.media import probe


class ClipKind(StrEnum):
    """How a clip reaches the candidate: one Bot API method each."""

    VOICE = "voice"  # sendVoice: OGG/Opus
    VIDEO = "video"  # sendVideo: MP4, H.264/AAC
    VIDEO_NOTE = "video_note"  # sendVideoNote: a square MP4 of up to a minute


class Shape(StrEnum):
    """What the person asked a video to become; AUTO: a round note when it fits."""

    AUTO = "auto"
    VIDEO = "video"
    NOTE = "note"


@dataclass(frozen=True)
class TelegramClip:
    kind: ClipKind
    path: Path
    duration_seconds: float  # measured from the encoded sound, not claimed
    width: int = 0  # 0 for a voice clip; a video note's width == height (its diameter)
    height: int = 0

    @property
    def suffix(self) -> str:
        return ".ogg" if self.kind == ClipKind.VOICE else ".mp4"


_OPUS_RATE = 48_000  # the only rate Opus encodes at natively
_OPUS_BIT_RATE = 32_000  # clear speech, about 240 KB a minute
_AAC_BIT_RATE = 96_000
_MAX_FPS = 30
_TIME_BASE = Fraction(1, 1000)  # video re-stamped in milliseconds, strictly increasing
# A video this close to square becomes a round note without losing anything that matters.
_SQUARE_ENOUGH = 1.1

_NO_SOUND = "This file has no sound track: record or choose one with sound."
_UNREADABLE = "This file is not a recording I can read: choose a voice or video file."


def too_long(seconds: float, limit: float) -> str:
    return (
        f"This recording is {seconds:.0f} s long; a clip for Telegram may last at most "
        f"{limit:.0f} s. Record a shorter one."
    )


def convert(
    src: Path,
    dest_dir: Path,
    *,
    shape: Shape = Shape.AUTO,
    max_seconds: float = TelegramMediaLimit.CLIP_SECONDS,
    budget_seconds: float = TelegramMediaLimit.CONVERT_BUDGET_SECONDS,
) -> TelegramClip:
    """``src`` as a voice (no picture), video or video note, written into ``dest_dir``.

    ``shape`` NOTE crops a video to its centre square and needs it to last at most a minute;
    AUTO makes a note of a square-enough video of a minute or less, else a video.
    """
    deadline = time.monotonic() + budget_seconds
    try:
        info = probe(src, up_to_seconds=max_seconds + 1, budget_seconds=budget_seconds)
    except MediaError as err:  # worded for a candidate; this is a team member's file
        raise MediaError(_UNREADABLE) from err
    if not info.has_audio:
        raise MediaError(_NO_SOUND)
    if not info.complete or info.duration_seconds > max_seconds:
        raise MediaError(too_long(info.shown_seconds, max_seconds))
    with _open(src) as container:
        video = container.streams.video[0] if container.streams.video else None
        size = _size(video) if video is not None else (0, 0)
    kind = _kind(info.has_video and video is not None, size, info.duration_seconds, shape)
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    suffix = ".ogg" if kind == ClipKind.VOICE else ".mp4"
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".converting-", suffix=suffix)
    os.close(fd)
    try:
        if kind == ClipKind.VOICE:
            _encode_voice(src, Path(tmp), deadline)
            width = height = 0
        else:
            width, height = _target_size(size, kind)
            _encode_video(
                src, Path(tmp), (width, height), crop=kind == ClipKind.VIDEO_NOTE, deadline=deadline
            )
        os.chmod(tmp, 0o600)
        out = Path(tmp)
        encoded = probe(out, budget_seconds=budget_seconds)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if out.stat().st_size > TelegramMediaLimit.UPLOAD_BYTES:
        out.unlink(missing_ok=True)
        raise MediaError(
            f"Converted for Telegram this recording is over "
            f"{TelegramMediaLimit.UPLOAD_BYTES // (1024 * 1024)} MB, Telegram's upload limit: "
            "record a shorter one."
        )
    return TelegramClip(kind, out, encoded.duration_seconds, width, height)


def _kind(has_video: bool, size: tuple[int, int], seconds: float, shape: Shape) -> ClipKind:
    if not has_video:
        return ClipKind.VOICE
    fits_note = seconds <= TelegramMediaLimit.VIDEO_NOTE_SECONDS
    if shape == Shape.NOTE:
        if not fits_note:
            raise MediaError(
                f"A round video note lasts at most {TelegramMediaLimit.VIDEO_NOTE_SECONDS} s "
                f"and this one is {seconds:.0f} s: send it as a video or record a shorter one."
            )
        return ClipKind.VIDEO_NOTE
    width, height = size
    square = max(width, height) <= _SQUARE_ENOUGH * min(width, height)
    return ClipKind.VIDEO_NOTE if shape == Shape.AUTO and fits_note and square else ClipKind.VIDEO


def _target_size(size: tuple[int, int], kind: ClipKind) -> tuple[int, int]:
    """Even sides (H.264 4:2:0 needs them), scaled down to Telegram's sizes, never up."""
    width, height = size
    if kind == ClipKind.VIDEO_NOTE:
        side = min(width, height, TelegramMediaLimit.VIDEO_NOTE_SIDE) // 2 * 2
        return side, side
    scale = min(1.0, TelegramMediaLimit.VIDEO_LONG_SIDE / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _encode_voice(src: Path, dest: Path, deadline: float) -> None:
    with _open(src) as source, av.open(str(dest), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=_OPUS_RATE)
        stream.layout = "mono"  # a voice note is mono; the widest client support
        stream.bit_rate = _OPUS_BIT_RATE
        try:
            for frame in source.decode(source.streams.audio[0]):
                _check(deadline)
                frame.pts = None  # the encoder counts samples itself
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def _encode_video(
    src: Path, dest: Path, size: tuple[int, int], *, crop: bool, deadline: float
) -> None:
    with _open(src) as source, av.open(str(dest), "w", format="mp4") as out:
        in_audio, in_video = source.streams.audio[0], source.streams.video[0]
        rate = min(in_video.average_rate or _MAX_FPS, _MAX_FPS)
        picture = out.add_stream(
            "libx264", rate=rate, options={"preset": "veryfast", "crf": "23", "threads": "1"}
        )
        picture.width, picture.height = size
        picture.pix_fmt = "yuv420p"
        picture.codec_context.time_base = _TIME_BASE
        sound = out.add_stream("aac", rate=_OPUS_RATE, options={"aac_coder": "fast"})
        sound.layout = "mono"
        sound.bit_rate = _AAC_BIT_RATE
        last_pts, gap_ms = -1, 1000 // _MAX_FPS
        try:
            for packet in source.demux(in_audio, in_video):
                for frame in packet.decode():
                    _check(deadline)
                    if packet.stream.type == "audio":
                        frame.pts = None
                        out.mux(sound.encode(frame))
                        continue
                    pts = max(0, round((frame.time or 0.0) * 1000))
                    if last_pts >= 0 and pts < last_pts + gap_ms:
                        continue
                    last_pts = pts
                    image = _cropped(frame) if crop else frame
                    scaled = image.reformat(size[0], size[1], "yuv420p")
                    scaled.pts, scaled.time_base = pts, _TIME_BASE
                    out.mux(picture.encode(scaled))
            out.mux(sound.encode(None))
            out.mux(picture.encode(None))
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def _cropped(frame: Any) -> Any:
    """The centre square of ``frame`` (a video note is round: the corners are never seen)."""
    pixels = frame.to_ndarray(format="rgb24")
    height, width = pixels.shape[:2]
    side = min(width, height)
    top, left = (height - side) // 2, (width - side) // 2
    square = np.ascontiguousarray(pixels[top : top + side, left : left + side])
    return av.VideoFrame.from_ndarray(square, format="rgb24")


def _size(video: Any) -> tuple[int, int]:
    width, height = int(video.codec_context.width or 0), int(video.codec_context.height or 0)
    if width <= 0 or height <= 0:
        raise MediaError(_UNREADABLE)
    return width, height


def _open(path: Path) -> Any:
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise MediaError(_UNREADABLE) from err
    except (ValueError, UnicodeDecodeError) as err:
        raise MediaError(_UNREADABLE) from err


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise MediaError(
            "Converting this recording for Telegram took too long: choose a shorter or "
            "smaller file."
        )
