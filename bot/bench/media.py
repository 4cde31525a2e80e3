"""``hirebot bench media``: peak memory of a bot process handed a recording that lies about
its size (20 MB holding hours of speech), measured in a fresh process.

The run goes the way the bot goes: measure the upload as the Telegram adapter does (soft
limits, the worst case: up to the ceiling), keep the measured part, transcribe it with the
bot's Whisper pipeline, and make the Slack copy. Each step's peak RSS is printed.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from bot.bench.fresh_process import run_json
from bot.limits import FileLimit

TARGET_PEAK_MB = 500
_SAMPLES = Path(__file__).resolve().parents[1] / "sandbox" / "samples"
_ANSWERS = ("answer1.ogg", "answer2.ogg")
_MP3_RATE = 8_000


def mux_mono(
    container: Any, stream: Any, samples: npt.NDArray[np.float32], rate: int, *, frame_size: int
) -> None:
    """Encode mono float ``samples`` at ``rate`` Hz on ``stream`` in frames of ``frame_size``
    and mux them. The stream is not flushed: the caller may still have a video track to end."""
    for start in range(0, len(samples), frame_size):
        chunk = samples[start : start + frame_size].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))


def long_mp3(
    path: Path,
    seconds: float,
    *,
    amplitude: float = 0.0,
    sound: npt.NDArray[np.float32] | None = None,
    piece_seconds: int = 60,
) -> Path:
    """An MP3 of ``seconds`` (8 kHz, 8 kbps: about 3.6 MB an hour), made in a moment.

    MP3 is a plain run of frames, so one encoded minute written over and over plays as one
    long recording: the way a hostile candidate packs hours into a small upload. The minute
    is ``sound`` (8 kHz mono, looped) if given, else a 440 Hz tone of ``amplitude`` (0:
    silence).
    """
    count = _MP3_RATE * piece_seconds
    if sound is None:
        t = np.arange(count) / _MP3_RATE
        sound = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    minute = np.resize(sound, count).astype(np.float32)
    buffer = io.BytesIO()
    options = {"write_xing": "0", "id3v2_version": "0"}
    with av.open(buffer, "w", format="mp3", options=options) as container:
        stream = container.add_stream("libmp3lame", rate=_MP3_RATE)
        stream.layout = "mono"
        stream.bit_rate = 8_000
        mux_mono(container, stream, minute, _MP3_RATE, frame_size=1152)
        container.mux(stream.encode(None))
    piece = buffer.getvalue()
    with path.open("wb") as out:
        for _ in range(math.ceil(seconds / piece_seconds)):
            out.write(piece)
    return path


def speech_mp3(path: Path, size_bytes: int) -> Path:
    """As much looped speech (the demo's two answers, apart) as fits in ``size_bytes``."""
    speech = _speech(_MP3_RATE)
    minute_bytes = len(_one_minute(speech))
    minutes = size_bytes // minute_bytes
    return long_mp3(path, minutes * 60, sound=speech)


def _speech(rate: int) -> npt.NDArray[np.float32]:
    """The demo's answers with pauses between them: text that does not repeat within one of
    Whisper's 30 s windows (a repeating one sends it into slow temperature fallbacks)."""
    from bot.transcription.media import decode_audio

    first, second = (decode_audio(_SAMPLES / name, rate) for name in _ANSWERS)
    pause = np.zeros(rate * 2, dtype=np.float32)
    return np.concatenate([first, pause, second, pause, pause])


def _one_minute(speech: npt.NDArray[np.float32]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return long_mp3(Path(folder) / "m.mp3", 60, sound=speech).read_bytes()


def arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's options: bot.bench.commands imports this module only when it is chosen."""
    parser.add_argument(
        "--megabytes",
        type=float,
        default=FileLimit.TELEGRAM_DOWNLOAD_BYTES / 1024 / 1024,
        help="size of the generated upload (default: the 20 MB download limit)",
    )
    parser.add_argument("--model", default="tiny.en", help="Whisper model (default tiny.en)")
    parser.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="hirebot-bench-media-") as folder:
        upload = speech_mp3(Path(folder) / "upload.mp3", int(args.megabytes * 1024 * 1024))
        megabytes = upload.stat().st_size / 1024 / 1024
        hours = float(av.open(str(upload)).duration or 0) / av.time_base / 3600
        print(f"hirebot bench media: a {megabytes:.1f} MB MP3 holding {hours:.1f} h of speech")
        spec = {"upload": str(upload), "model": args.model, "store": str(Path(folder) / "m")}
        steps = run_json("bot.bench.media_run", json.dumps(spec), what="the media run")
    for step in steps:
        print(
            f"  {step['step']:34} {step['seconds']:7.1f} s   peak RSS so far "
            f"{step['peak_mb']:6.0f} MB   {step['note']}"
        )
    peak = max(step["peak_mb"] for step in steps)
    verdict = "meets" if peak < TARGET_PEAK_MB else "MISSES"
    print(f"peak RSS {peak:.0f} MB: {verdict} the {TARGET_PEAK_MB} MB target")
    return 0 if peak < TARGET_PEAK_MB else 1


def large_video(path: Path, seconds: float, *, width: int = 1920, height: int = 1080) -> Path:
    """A Matroska video (H.264, 10 fps, looped speech): Slack does not play it, so the bot
    converts every one; the picture is scaled down to the copy's size on the way."""
    fps, rate = 10, 16_000
    speech = np.resize(_speech(rate), round(seconds * rate)).astype(np.float32)
    with av.open(str(path), "w", format="matroska") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "mono"
        ramp = np.linspace(0, 255, width, dtype=np.float32)
        for index in range(round(seconds * fps)):
            row = ((ramp + index * 8) % 256).astype(np.uint8)
            image = np.broadcast_to(row[None, :, None], (height, width, 3)).copy()
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        mux_mono(container, audio, speech, rate, frame_size=1024)
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path
