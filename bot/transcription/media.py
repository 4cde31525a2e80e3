"""Read candidates' voice and video notes with PyAV (no system ffmpeg needed).

Every failure a candidate can cause (an empty upload, a file with no sound, bytes that are
not media) becomes a :class:`~bot.errors.MediaError` whose message can be sent back to them
as is. A missing path is our bug, not theirs, so it stays a plain ``FileNotFoundError``.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from bot.errors import MediaError
from bot.limits import MediaLimit

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

    Decoding stops at the probe's ``up_to_seconds``: ``complete`` is then False and the file
    holds at least ``duration_seconds`` of sound. ``claimed_seconds`` is what the headers say
    (None when they say nothing); it is only ever shown, never trusted.
    """

    duration_seconds: float
    has_audio: bool
    has_video: bool
    format_name: str
    audio_codec: str | None
    video_codec: str | None = None
    complete: bool = True
    claimed_seconds: float | None = None

    @property
    def shown_seconds(self) -> float:
        """The length to tell a person: the headers' claim where decoding stopped short."""
        if self.complete or self.claimed_seconds is None:
            return self.duration_seconds
        return max(self.duration_seconds, self.claimed_seconds)


def probe(
    path: Path,
    *,
    up_to_seconds: float = MediaLimit.MAX_KEPT_SECONDS,
    budget_seconds: float = MediaLimit.PROBE_SECONDS,
) -> MediaInfo:
    """Describe ``path``, decoding its audio (counting samples, holding none) only as far as
    ``up_to_seconds``: a small file can hold hours, and nobody needs more than that to
    decide. Raises MediaError (the "couldn't open" answer) past ``budget_seconds``.

    A file with no audio track is described (``has_audio=False``) rather than rejected, so
    the caller chooses the words; :func:`decode_audio` rejects it.
    """
    deadline = time.monotonic() + budget_seconds
    container = _open(path)
    with container:
        audio = container.streams.audio[0] if container.streams.audio else None
        has_video = bool(container.streams.video)
        video_codec = _codec_name(container.streams.video[0]) if has_video else None
        format_name = str(container.format.name)
        claimed = _claimed_seconds(container, audio)
        if audio is None:
            return MediaInfo(claimed or 0.0, False, has_video, format_name, None, video_codec)
        codec = _codec_name(audio)
        sample_count = 0
        sample_rate = 0
        complete = True
        for frame in _decode(container, audio, deadline):
            # Counting samples per frame (not pts arithmetic) survives odd timestamps.
            sample_count += frame.samples
            sample_rate = frame.sample_rate or sample_rate
            if sample_rate and sample_count >= up_to_seconds * sample_rate:
                complete = False
                break
        if sample_count == 0 or sample_rate == 0:
            raise MediaError(_NO_AUDIO_DECODED)
        return MediaInfo(
            sample_count / sample_rate,
            True,
            has_video,
            format_name,
            codec,
            video_codec,
            complete=complete,
            claimed_seconds=claimed,
        )


def audio_chunks(
    path: Path,
    *,
    sample_rate: int = WHISPER_SAMPLE_RATE,
    chunk_seconds: float = MediaLimit.DECODE_CHUNK_SECONDS,
    max_seconds: float = MediaLimit.MAX_KEPT_SECONDS,
) -> Iterator[FloatArray]:
    """The first ``max_seconds`` of the first audio track, as mono float32 chunks in [-1, 1].

    Frames are resampled as they are read into one ``chunk_seconds`` buffer, handed over
    when full: memory stays at a chunk or two whatever the file's length, and nothing past
    ``max_seconds`` is decoded. Raises MediaError when there is no sound to hand over.
    """
    container = _open(path)
    with container:
        if not container.streams.audio:
            raise MediaError(_NO_SOUND)
        audio = container.streams.audio[0]
        # "flt" is packed float32; with one channel, to_ndarray() is shape (1, n).
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        size = max(1, round(chunk_seconds * sample_rate))
        left = round(max_seconds * sample_rate)
        buffer = np.empty(size, dtype=np.float32)
        filled = 0
        handed = 0

        def resampled() -> Iterator[FloatArray]:
            try:
                for frame in _decode(container, audio):
                    for out in resampler.resample(frame):
                        yield _as_mono(out)
                for out in resampler.resample(None):
                    yield _as_mono(out)
            except (av.FFmpegError, ValueError) as err:
                # A resampler failure means a format we cannot convert: same as corrupt.
                raise MediaError(_UNREADABLE) from err

        for piece in resampled():
            piece = piece[:left]
            left -= piece.size
            while piece.size:
                taken = min(piece.size, size - filled)
                buffer[filled : filled + taken] = piece[:taken]
                filled += taken
                piece = piece[taken:]
                if filled == size:
                    # Decoders may overshoot a little (AAC clipping); Whisper wants [-1, 1].
                    np.clip(buffer, -1.0, 1.0, out=buffer)
                    # Cut where the speaker pauses, not mid-word: the rest starts the next chunk.
                    cut = _quietest_cut(buffer, sample_rate)
                    carried = buffer[cut:]
                    yield buffer[:cut]
                    handed += 1
                    buffer = np.empty(size, dtype=np.float32)
                    buffer[: carried.size] = carried
                    filled = carried.size
            if left <= 0:
                break
        if filled:
            tail = buffer[:filled]
            np.clip(tail, -1.0, 1.0, out=tail)
            yield tail
            handed += 1
    if handed == 0:
        raise MediaError(_NO_AUDIO_DECODED)


def _quietest_cut(buffer: FloatArray, sample_rate: int) -> int:
    """Where to end a full chunk: the middle of its quietest short window near the end.

    A chunk cut at a fixed length splits whatever word is said there, and Whisper mishears
    both halves; speech pauses every few seconds, so the quietest window among the last
    MediaLimit.CHUNK_CUT_SEARCH_MS is almost always between two words.
    """
    window = max(1, MediaLimit.CHUNK_CUT_WINDOW_MS * sample_rate // 1000)
    search = min(buffer.size // 2, MediaLimit.CHUNK_CUT_SEARCH_MS * sample_rate // 1000)
    windows = search // window
    if windows < 2:
        return buffer.size
    start = buffer.size - windows * window
    energy = np.square(buffer[start:]).reshape(windows, window).sum(axis=1)
    return start + int(np.argmin(energy)) * window + window // 2


def decode_audio(
    path: Path,
    sample_rate: int = WHISPER_SAMPLE_RATE,
    *,
    max_seconds: float = MediaLimit.MAX_KEPT_SECONDS,
) -> FloatArray:
    """Decode the first ``max_seconds`` of ``path``'s first audio track to mono float32
    samples in [-1, 1]. Video packets are skipped without being decoded."""
    chunks = list(audio_chunks(path, sample_rate=sample_rate, max_seconds=max_seconds))
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def keep_first(
    src: Path, dest: Path, seconds: float, *, budget_seconds: float = MediaLimit.PROBE_SECONDS
) -> None:
    """Write the first ``seconds`` of ``src`` (its first audio and video track) to ``dest``
    as Matroska, copying packets as they are: no decoding, so it takes a moment whatever the
    file holds. Matroska carries every codec Telegram sends. Raises MediaError on a file
    that cannot be copied or takes longer than ``budget_seconds``.
    """
    deadline = time.monotonic() + budget_seconds
    source = _open(src)
    with source:
        inputs = [s for s in (*source.streams.audio[:1], *source.streams.video[:1])]
        if not inputs:
            raise MediaError(_NO_SOUND)
        try:
            with av.open(str(dest), "w", format="matroska") as out:
                copies = {s.index: out.add_stream_from_template(s) for s in inputs}
                ended: set[int] = set()
                for packet in source.demux(*inputs):
                    if time.monotonic() > deadline:
                        raise MediaError(_UNREADABLE)
                    index = packet.stream.index
                    if packet.dts is None or index in ended:
                        continue  # a demuxer's flush packet, or a track already long enough
                    if packet.pts is not None and float(packet.pts * packet.time_base) > seconds:
                        ended.add(index)
                        if len(ended) == len(inputs):
                            break
                        continue
                    packet.stream = copies[index]
                    out.mux(packet)
        except (av.FFmpegError, ValueError) as err:
            raise MediaError(_UNREADABLE) from err


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
    loudest = 0.0
    if usable:
        # A sum of squares per window in float32 (einsum makes no copy of the samples).
        frames = samples[:usable].reshape(-1, window)
        loudest = math.sqrt(float(np.einsum("ij,ij->i", frames, frames).max()) / window)
    if usable < samples.size:
        loudest = max(loudest, _rms(samples[usable:]))
    if loudest <= 0.0:
        return True
    return 20.0 * math.log10(loudest) < threshold_dbfs


def playable_copy(
    src: Path,
    dest_dir: Path,
    *,
    max_seconds: float = MediaLimit.MAX_KEPT_SECONDS,
    budget_seconds: float = MediaLimit.TRANSCODE_SECONDS,
) -> Path | None:
    """Make a copy of ``src`` that Slack plays inline, or return None when ``src`` plays as is.

    Slack's player takes MP4/MOV video (H.264 with AAC) and MP3/M4A audio, but not Telegram's
    OGG/Opus voice notes nor WebM: reviewers would have to download those. Audio becomes an
    M4A (AAC), video an MP4 (H.264/AAC). The copy is named after ``src`` (a content hash in
    the media store), so asking twice returns the same file. Blocking: run it off the event
    loop. Raises MediaError for a file that cannot be read, or one whose copy would take
    longer than ``budget_seconds``.

    The work is bounded whatever the file claims: the copy ends where the sound ends (at
    most ``max_seconds``), so a video track longer than its audio buys nothing; pictures are
    scaled down to MediaLimit.PLAYABLE_LONG_SIDE and at most _MAX_FPS a second.
    """
    deadline = time.monotonic() + budget_seconds
    container = _open(src)
    with container:
        audio = container.streams.audio[0] if container.streams.audio else None
        video = container.streams.video[0] if container.streams.video else None
        plays = (
            str(container.format.name) in _PLAYABLE_FORMATS
            and (audio is None or _codec_name(audio) in _PLAYABLE_AUDIO)
            and (video is None or _codec_name(video) in _PLAYABLE_VIDEO)
            and (video is None or _scaled(video) == _size(video))
        )
    if plays:
        return None
    if audio is None and video is None:
        raise MediaError(_UNREADABLE)
    if audio is not None:
        # Measured, not claimed: the sound's real length (within the same budget).
        budget = max(0.0, deadline - time.monotonic())
        sound = probe(src, up_to_seconds=max_seconds, budget_seconds=budget)
        max_seconds = min(max_seconds, sound.duration_seconds)
    dest = dest_dir / f"{src.stem}.playable{'.mp4' if video is not None else '.m4a'}"
    if dest.exists():
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".transcoding-", suffix=dest.suffix)
    os.close(fd)
    try:
        _transcode(
            src, Path(tmp), with_video=video is not None, until=max_seconds, deadline=deadline
        )
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def transcode_mp4(src: Path, dest: Path, *, until: float, budget_seconds: float) -> None:
    """``src`` as an H.264/AAC MP4 (the picture scaled as for Slack), up to ``until`` seconds:
    what Telegram plays as a video too. Blocking; MediaError past ``budget_seconds``."""
    _transcode(src, dest, with_video=True, until=until, deadline=time.monotonic() + budget_seconds)


# libavformat's name for the MP4 family, and for MP3 files.
_PLAYABLE_FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2", "mp3"}
_PLAYABLE_AUDIO = {"aac", "mp3", "mp3float"}
_PLAYABLE_VIDEO = {"h264"}
_AAC_BIT_RATE = 96_000  # plenty for speech; a 2-minute answer is about 1.4 MB
_AAC_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
# Milliseconds: fine enough for any frame rate a phone records, and simple to reason about.
_VIDEO_TIME_BASE = Fraction(1, 1000)
# Pictures a second in the copy: a phone's 30; a file claiming 1000 fps encodes 30.
_MAX_FPS = 30


def _size(video: Any) -> tuple[int, int]:
    context = video.codec_context
    return int(context.width or 0), int(context.height or 0)


def _scaled(video: Any) -> tuple[int, int]:
    """Even dimensions (H.264 4:2:0 needs them), the long side at most PLAYABLE_LONG_SIDE."""
    width, height = _size(video)
    if width <= 0 or height <= 0:
        raise MediaError(_UNREADABLE)
    scale = min(1.0, MediaLimit.PLAYABLE_LONG_SIDE / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _transcode(src: Path, dest: Path, *, with_video: bool, until: float, deadline: float) -> None:
    source = _open(src)
    with source, av.open(str(dest), "w", format="mp4" if with_video else "ipod") as out:
        streams: list[Any] = []
        out_audio: Any = None
        out_video: Any = None
        if source.streams.audio:
            in_audio = source.streams.audio[0]
            streams.append(in_audio)
            # The source's rate (rounded up to one AAC knows), at most 48 kHz: an 8 kHz file
            # encoded at 48 kHz would cost six times the work for nothing.
            source_rate = in_audio.codec_context.sample_rate or _AAC_RATES[-1]
            out_rate = next(r for r in _AAC_RATES if r >= min(source_rate, _AAC_RATES[-1]))
            # The "fast" coder: a third of the default's time, no difference for speech.
            out_audio = out.add_stream("aac", rate=out_rate, options={"aac_coder": "fast"})
            out_audio.layout = "stereo" if in_audio.codec_context.channels >= 2 else "mono"
            out_audio.bit_rate = _AAC_BIT_RATE
        if with_video:
            in_video = source.streams.video[0]
            streams.append(in_video)
            rate = min(in_video.average_rate or _MAX_FPS, _MAX_FPS)
            # One encoder thread: the media pool bounds how many copies run at once, and
            # each may take one core, never all of them.
            out_video = out.add_stream(
                "libx264", rate=rate, options={"preset": "veryfast", "crf": "26", "threads": "1"}
            )
            out_video.width, out_video.height = _scaled(in_video)
            out_video.pix_fmt = "yuv420p"
            out_video.codec_context.time_base = _VIDEO_TIME_BASE

        def in_time() -> None:
            if time.monotonic() > deadline:
                raise MediaError(_UNREADABLE)

        def picture(frame: Any) -> Any:
            return frame.reformat(out_video.width, out_video.height, "yuv420p")

        try:
            mux_restamped(source, streams, out, out_audio, out_video, picture, until, in_time)
        except av.FFmpegError as err:
            raise MediaError(_UNREADABLE) from err


def mux_restamped(
    source: Any,
    streams: list[Any],
    out: Any,
    out_audio: Any,
    out_video: Any,
    picture: Callable[[Any], Any],
    until: float,
    in_time: Callable[[], None],
) -> None:
    """Decode ``streams`` of ``source`` up to ``until`` seconds and encode them into ``out``:
    sound as it comes, each frame made the output's picture by ``picture``; ``in_time``
    raises once the work is over its time. Raises av.FFmpegError for a damaged file."""
    last_pts = -1
    gap_ms = 1000 // _MAX_FPS
    ended = {stream.index: False for stream in streams}
    for packet in source.demux(*streams):
        in_time()
        if ended[packet.stream.index]:
            if all(ended.values()):
                break
            continue
        for frame in packet.decode():
            if (frame.time or 0.0) > until:
                ended[packet.stream.index] = True
                break
            if packet.stream.type == "audio":
                frame.pts = None  # the encoder counts samples itself
                out.mux(out_audio.encode(frame))
                continue
            # Re-stamp in milliseconds, strictly increasing (some WebM encoders
            # repeat timestamps, which x264 refuses), at most _MAX_FPS a second.
            pts = max(0, round((frame.time or 0.0) * 1000))
            if last_pts >= 0 and pts < last_pts + gap_ms:
                continue
            last_pts = pts
            shown = picture(frame)
            shown.pts = pts
            shown.time_base = _VIDEO_TIME_BASE
            out.mux(out_video.encode(shown))
    for stream in (out_audio, out_video):
        if stream is not None:
            out.mux(stream.encode(None))


def _rms(samples: FloatArray) -> float:
    return math.sqrt(float(np.dot(samples, samples)) / samples.size)


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


def _decode(container: Any, stream: Any, deadline: float | None = None) -> Iterator[Any]:
    """Yield the decoded frames of ``stream``, mapping decoder errors to MediaError; past
    ``deadline`` (time.monotonic()) the file counts as one we cannot open."""
    try:
        for frame in container.decode(stream):
            if deadline is not None and time.monotonic() > deadline:
                raise MediaError(_UNREADABLE)
            yield frame
    except av.FFmpegError as err:
        raise MediaError(_UNREADABLE) from err


def _claimed_seconds(container: Any, audio: Any) -> float | None:
    """The longest duration the headers claim (container, then audio stream), if any."""
    claims: list[float] = []
    if container.duration is not None and container.duration > 0:
        claims.append(float(container.duration) / av.time_base)
    if audio is not None and audio.duration is not None and audio.time_base is not None:
        claims.append(float(audio.duration * audio.time_base))
    return max(claims) if claims else None


def _as_mono(frame: Any) -> FloatArray:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


@dataclass(frozen=True)
class Measured:
    problem: str | None  # why it cannot be used: ``no_sound`` or ``unreadable``
    info: MediaInfo | None = None
    kept: bytes | None = None  # the measured part alone, when the recording goes on past it


def measure_upload(data: bytes, up_to_seconds: float) -> Measured:
    """A candidate's recording's real length (decoded no further than ``up_to_seconds``,
    within MediaLimit.PROBE_SECONDS), or why it cannot be used. Blocking: run it in the
    intake processes (bot.transcription.pool.run_intake)."""
    with tempfile.TemporaryDirectory(prefix="hirebot-probe-") as folder:
        path = Path(folder) / "answer"
        path.write_bytes(data)
        try:
            info = probe(path, up_to_seconds=up_to_seconds)
            if not info.has_audio:
                return Measured("no_sound")
            if info.complete:
                return Measured(None, info)
            kept = Path(folder) / "kept.mkv"
            keep_first(path, kept, info.duration_seconds)
            return Measured(None, info, kept.read_bytes())
        except MediaError:
            return Measured("unreadable")
