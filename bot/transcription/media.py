"""Read candidates' voice and video notes with PyAV (no system ffmpeg needed).

Every failure a candidate can cause (an empty upload, a file with no sound, bytes that are
not media) becomes a :class:`~bot.errors.MediaError` whose message can be sent back to them
as is. A missing path is our bug, not theirs, so it stays a plain ``FileNotFoundError``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from bot.errors import MediaError

WHISPER_SAMPLE_RATE = 16_000

FloatArray = npt.NDArray[np.float32]

_NO_SOUND = (
    "This file has no sound track, so there is nothing to listen to. "
    "Please record your answer again as a voice or video message with sound."
)
_EMPTY = "This file is empty. Please record your answer again and send it once more."
_UNREADABLE = (
    "We couldn't open this file: it looks damaged or isn't a recording we can play. "
    "Please record your answer again as a voice or video message."
)
_NO_AUDIO_DECODED = (
    "We couldn't find any sound in this recording: it may be cut short or damaged. "
    "Please record your answer again."
)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds.

    ``duration_seconds`` is counted from the decoded audio samples, not taken from the
    container header: truncated uploads and some encoders claim a length the audio does not
    have, and what we show reviewers (and check against a question's time limit) must be
    what the candidate actually said. A file without audio reports the container's claim
    (0.0 when it makes none).
    """

    duration_seconds: float
    has_audio: bool
    has_video: bool
    format_name: str
    audio_codec: str | None
    video_codec: str | None = None


def probe(path: Path) -> MediaInfo:
    """Describe ``path``; decodes the audio once to measure it (cheap for voice notes).

    A file with no audio track is described (``has_audio=False``) rather than rejected, so
    the caller chooses the words; :func:`decode_audio` rejects it.
    """
    container = _open(path)
    with container:
        audio = container.streams.audio[0] if container.streams.audio else None
        has_video = bool(container.streams.video)
        video_codec = _codec_name(container.streams.video[0]) if has_video else None
        format_name = str(container.format.name)
        if audio is None:
            claimed = container.duration
            seconds = float(claimed) / av.time_base if claimed is not None else 0.0
            return MediaInfo(seconds, False, has_video, format_name, None, video_codec)
        codec = _codec_name(audio)
        sample_count = 0
        sample_rate = 0
        for frame in _decode(container, audio):
            # Counting samples per frame (not pts arithmetic) survives odd timestamps.
            sample_count += frame.samples
            sample_rate = frame.sample_rate or sample_rate
        if sample_count == 0 or sample_rate == 0:
            raise MediaError(_NO_AUDIO_DECODED)
        return MediaInfo(
            sample_count / sample_rate, True, has_video, format_name, codec, video_codec
        )


def decode_audio(path: Path, sample_rate: int = WHISPER_SAMPLE_RATE) -> FloatArray:
    """Decode the first audio track of ``path`` to mono float32 samples in [-1, 1].

    The container is read packet by packet from disk and each frame is resampled as it
    comes, so only the (small) resampled output is held in memory, never the whole file.
    Video packets are skipped without being decoded.
    """
    container = _open(path)
    with container:
        if not container.streams.audio:
            raise MediaError(_NO_SOUND)
        audio = container.streams.audio[0]
        # "flt" is packed float32; with one channel, to_ndarray() is shape (1, n).
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[FloatArray] = []
        try:
            for frame in _decode(container, audio):
                chunks.extend(_as_mono(out) for out in resampler.resample(frame))
            chunks.extend(_as_mono(out) for out in resampler.resample(None))
        except (av.FFmpegError, ValueError) as err:
            # A resampler failure means a format we cannot convert: same answer as corrupt.
            raise MediaError(_UNREADABLE) from err
    if not chunks:
        raise MediaError(_NO_AUDIO_DECODED)
    samples = np.concatenate(chunks)
    if samples.size == 0:
        raise MediaError(_NO_AUDIO_DECODED)
    # Decoders may overshoot a little (e.g. AAC clipping); Whisper expects [-1, 1].
    np.clip(samples, -1.0, 1.0, out=samples)
    return samples


def is_silent(
    samples: FloatArray,
    sample_rate: int = WHISPER_SAMPLE_RATE,
    threshold_dbfs: float = -45.0,
    window_seconds: float = 0.1,
) -> bool:
    """True when no ``window_seconds`` stretch is louder than ``threshold_dbfs`` (RMS).

    The loudest window is what counts, not the RMS of the whole clip: a two-minute note with
    one quiet sentence averages out near silence, yet the candidate did speak. -45 dBFS sits
    well above a phone's noise floor in a quiet room and far below quiet speech (about
    -30 dBFS), so we only call a recording silent when it really is; anything louder goes
    to Whisper, whose own no-speech score flags the rest as low confidence.
    """
    if samples.size == 0:
        return True
    window = max(1, int(sample_rate * window_seconds))
    usable = samples.size - samples.size % window
    if usable == 0:
        loudest = _rms(samples)
    else:
        frames = samples[:usable].reshape(-1, window).astype(np.float64)
        loudest = float(np.sqrt(np.mean(frames * frames, axis=1)).max())
        if usable < samples.size:
            loudest = max(loudest, _rms(samples[usable:]))
    if loudest <= 0.0:
        return True
    return 20.0 * math.log10(loudest) < threshold_dbfs


def playable_copy(src: Path, dest_dir: Path) -> Path | None:
    """Make a copy of ``src`` that Slack plays inline, or return None when ``src`` plays as is.

    Slack's player takes MP4/MOV video (H.264 with AAC) and MP3/M4A audio, but not Telegram's
    OGG/Opus voice notes nor WebM: reviewers would have to download those. Audio becomes an
    M4A (AAC), video an MP4 (H.264/AAC). The copy is named after ``src`` (a content hash in
    the media store), so asking twice returns the same file. Blocking: run it off the event
    loop. Raises MediaError for a file that cannot be read.
    """
    container = _open(src)
    with container:
        audio = container.streams.audio[0] if container.streams.audio else None
        video = container.streams.video[0] if container.streams.video else None
        plays = (
            str(container.format.name) in _PLAYABLE_FORMATS
            and (audio is None or _codec_name(audio) in _PLAYABLE_AUDIO)
            and (video is None or _codec_name(video) in _PLAYABLE_VIDEO)
        )
    if plays:
        return None
    if audio is None and video is None:
        raise MediaError(_UNREADABLE)
    dest = dest_dir / f"{src.stem}.playable{'.mp4' if video is not None else '.m4a'}"
    if dest.exists():
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".transcoding-", suffix=dest.suffix)
    os.close(fd)
    try:
        _transcode(src, Path(tmp), with_video=video is not None)
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


# libavformat's name for the MP4 family, and for MP3 files.
_PLAYABLE_FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2", "mp3"}
_PLAYABLE_AUDIO = {"aac", "mp3", "mp3float"}
_PLAYABLE_VIDEO = {"h264"}
_AAC_BIT_RATE = 96_000  # plenty for speech; a 2-minute answer is about 1.4 MB
# Milliseconds: fine enough for any frame rate a phone records, and simple to reason about.
_VIDEO_TIME_BASE = Fraction(1, 1000)


def _transcode(src: Path, dest: Path, *, with_video: bool) -> None:
    source = _open(src)
    with source, av.open(str(dest), "w", format="mp4" if with_video else "ipod") as out:
        streams: list[Any] = []
        out_audio: Any = None
        out_video: Any = None
        if source.streams.audio:
            in_audio = source.streams.audio[0]
            streams.append(in_audio)
            out_audio = out.add_stream("aac", rate=48_000)
            out_audio.layout = "stereo" if in_audio.codec_context.channels >= 2 else "mono"
            out_audio.bit_rate = _AAC_BIT_RATE
        if with_video:
            in_video = source.streams.video[0]
            streams.append(in_video)
            rate = in_video.average_rate or 30
            out_video = out.add_stream(
                "libx264", rate=rate, options={"preset": "veryfast", "crf": "26"}
            )
            # H.264 with 4:2:0 chroma needs even dimensions.
            out_video.width = in_video.codec_context.width // 2 * 2
            out_video.height = in_video.codec_context.height // 2 * 2
            out_video.pix_fmt = "yuv420p"
            out_video.codec_context.time_base = _VIDEO_TIME_BASE
        last_pts = -1
        try:
            for packet in source.demux(*streams):
                for frame in packet.decode():
                    if packet.stream.type == "audio":
                        frame.pts = None  # the encoder counts samples itself
                        out.mux(out_audio.encode(frame))
                        continue
                    # Re-stamp in milliseconds, strictly increasing (some WebM encoders
                    # repeat timestamps, which x264 refuses).
                    pts = max(last_pts + 1, round((frame.time or 0.0) * 1000))
                    last_pts = pts
                    picture = frame.reformat(out_video.width, out_video.height, "yuv420p")
                    picture.pts = pts
                    picture.time_base = _VIDEO_TIME_BASE
                    out.mux(out_video.encode(picture))
            for stream in (out_audio, out_video):
                if stream is not None:
                    out.mux(stream.encode(None))
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def _rms(samples: FloatArray) -> float:
    as64 = samples.astype(np.float64)
    return float(np.sqrt(np.mean(as64 * as64)))


def _open(path: Path) -> Any:
    """Open ``path`` for reading, turning candidate-caused failures into MediaError."""
    # stat() first: a missing file is our bug and should surface as FileNotFoundError.
    if path.stat().st_size == 0:
        raise MediaError(_EMPTY)
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise MediaError(_UNREADABLE) from err
    except (ValueError, UnicodeDecodeError) as err:
        # PyAV raises ValueError for some malformed headers it cannot describe.
        raise MediaError(_UNREADABLE) from err


def _codec_name(stream: Any) -> str:
    try:
        return str(stream.codec_context.name)
    except (AttributeError, av.FFmpegError) as err:
        raise MediaError(_UNREADABLE) from err


def _decode(container: Any, stream: Any) -> Any:
    """Yield the decoded frames of ``stream``, mapping decoder errors to MediaError."""
    try:
        yield from container.decode(stream)
    except av.FFmpegError as err:
        raise MediaError(_UNREADABLE) from err


def _as_mono(frame: Any) -> FloatArray:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)
