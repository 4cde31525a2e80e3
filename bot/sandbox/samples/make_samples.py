"""Regenerate the sample answers shipped next to this file.

Run from the repository root::

    .venv/bin/python bot/sandbox/samples/make_samples.py

Needs ``espeak-ng`` on PATH and PyAV (no system ffmpeg). Tests and the sandbox demo use the
files this writes, so they never need espeak-ng themselves; regenerate only when the
speech or the encoding should change, and re-check the durations in ``README.md`` and in
``tests/transcription``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent

ANSWERS: dict[str, str] = {
    "answer1": (
        "I built a payment service in Python. Today I would add better monitoring and more tests."
    ),
    "answer2": "I enjoy mentoring engineers and reviewing code with my team every week.",
}

VOICE = "en-us"
WORDS_PER_MINUTE = 150
# Telegram records voice notes as 48 kHz mono Opus; video notes carry 48 kHz AAC.
RATE = 48_000
# A real voice note starts a moment before the person speaks and ends a moment after.
LEAD_SECONDS = 0.4
TAIL_SECONDS = 0.6
VIDEO_SIZE = 240  # Telegram video notes are square
VIDEO_FPS = 25
# A calm blue-grey: the frame content does not matter, only that the file has a video track.
FRAME_RGB = (70, 90, 120)

Int16Array = npt.NDArray[np.int16]


def speak(text: str, wav: Path) -> None:
    """Synthesize ``text`` to a WAV file with espeak-ng (22.05 kHz mono s16)."""
    subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(wav), text],
        check=True,
    )


def load_pcm(wav: Path) -> Int16Array:
    """Read ``wav`` as 48 kHz mono s16 samples, padded with silence at both ends."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks: list[Int16Array] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(_s16(f) for f in resampler.resample(frame))
    chunks.extend(_s16(f) for f in resampler.resample(None))
    speech = np.concatenate(chunks)
    lead = np.zeros(round(LEAD_SECONDS * RATE), dtype=np.int16)
    tail = np.zeros(round(TAIL_SECONDS * RATE), dtype=np.int16)
    return np.concatenate([lead, speech, tail])


def _s16(frame: av.AudioFrame) -> Int16Array:
    return np.asarray(frame.to_ndarray(), dtype=np.int16).reshape(-1)


def _audio_frames(pcm: Int16Array, frame_size: int, fmt: str) -> list[av.AudioFrame]:
    """Cut ``pcm`` into the fixed-size frames an encoder wants (the last one zero-padded)."""
    # Opus and AAC encoders reject frames that are not exactly ``frame_size`` long.
    padded = np.zeros(-(-len(pcm) // frame_size) * frame_size, dtype=np.int16)
    padded[: len(pcm)] = pcm
    frames: list[av.AudioFrame] = []
    for start in range(0, len(padded), frame_size):
        chunk = padded[start : start + frame_size]
        if fmt == "fltp":
            frame = av.AudioFrame.from_ndarray(
                (chunk.astype(np.float32) / 32768.0).reshape(1, -1), format="fltp", layout="mono"
            )
        else:
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = start
        frame.time_base = Fraction(1, RATE)
        frames.append(frame)
    return frames


def write_voice_note(pcm: Int16Array, out: Path) -> None:
    """Write an OGG/Opus mono 48 kHz voice note, as Telegram's app records it."""
    # bitexact: a fixed Ogg stream serial and no encoder version tag, so regenerating with the
    # same espeak-ng gives the same bytes (an unchanged sample shows no diff in git).
    with av.open(str(out), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=RATE)
        stream.layout = "mono"
        stream.bit_rate = 32_000
        stream.codec_context.options = {"application": "voip"}
        for frame in _audio_frames(pcm, 960, "s16"):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def write_video_note(pcm: Int16Array, out: Path) -> None:
    """Write an MP4 with a 240x240 H.264 video track and AAC audio, like a Telegram video note."""
    seconds = len(pcm) / RATE
    with av.open(str(out), "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        video = container.add_stream("libx264", rate=VIDEO_FPS)
        video.width = VIDEO_SIZE
        video.height = VIDEO_SIZE
        video.pix_fmt = "yuv420p"
        # A flat frame costs almost nothing at any quality; keep x264 single-threaded and
        # deterministic so regenerating gives the same bytes.
        video.codec_context.options = {"crf": "35", "preset": "veryslow", "threads": "1"}
        audio = container.add_stream("aac", rate=RATE)
        audio.layout = "mono"
        audio.bit_rate = 48_000

        rgb = np.empty((VIDEO_SIZE, VIDEO_SIZE, 3), dtype=np.uint8)
        rgb[:, :] = FRAME_RGB
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        for index in range(round(seconds * VIDEO_FPS)):
            frame = picture.reformat()  # a fresh frame per pts; the pixels stay the same
            frame.pts = index
            frame.time_base = Fraction(1, VIDEO_FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))

        for audio_frame in _audio_frames(pcm, 1024, "fltp"):
            container.mux(audio.encode(audio_frame))
        container.mux(audio.encode(None))


def main() -> int:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in ANSWERS.items():
            wav = Path(tmp) / f"{name}.wav"
            speak(text, wav)
            pcm = load_pcm(wav)
            print(f"{name}: {len(pcm) / RATE:.3f} s of audio")
            write_voice_note(pcm, HERE / f"{name}.ogg")
            if name == "answer2":
                write_video_note(pcm, HERE / f"{name}.mp4")
    for path in sorted(HERE.glob("answer*.*")):
        print(f"{path.name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
