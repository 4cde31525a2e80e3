"""``hirebot bench decoding [DIR]``: which audio decoding, and whether to condition each
window on the previous one's text, gives Whisper's best words.

Four ways over the same files, with the same model (tiny.en int8 on the CPU, the bot's
threads), beam 5, language en, no VAD: our decoding (bot.transcription.media.audio_chunks)
or faster-whisper's ``decode_audio``, each with ``condition_on_previous_text`` off and on;
then the pipeline as it ships (``FasterWhisperTranscriber.transcribe``, what ``hirebot
transcribe`` and the bot run). The set is every file of DIR with a reference, plus each real
recording re-encoded as a Telegram voice note (OGG/Opus, 48 kHz mono, 32 kbps) and as a
video note's sound (AAC): what candidates actually send, and where the decoder resamples.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from bot.bench.transcription import (
    BEAM_SIZE,
    DEFAULT_DIR,
    LANGUAGE,
    normalise,
    references_in,
    require_jiwer,
)

VOICE_NOTE_RATE = 48_000
VOICE_NOTE_BITRATE = 32_000
# Each real recording again, the ways candidates send it: group → (suffix, codec, container).
RE_ENCODED = {
    "real as voice note": (".ogg", "libopus", "ogg"),
    "real as video note": (".m4a", "aac", "mp4"),
}


@dataclass(frozen=True)
class Sample:
    group: str  # "real", "real as voice note", "synthetic"
    path: Path
    reference: str


def arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's options: bot.bench.commands imports this module only when it is chosen."""
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--model", default="tiny.en", help="Whisper model (default tiny.en)")
    parser.set_defaults(handler=bench)


def bench(args: argparse.Namespace) -> int:
    require_jiwer("decoding")
    from bot.transcription.cli import progress

    # faster-whisper logs each file's duration at INFO, which would break the progress lines.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)

    references = references_in(args.dir)
    with tempfile.TemporaryDirectory(prefix="hirebot-bench-decoding-") as folder:
        samples = build_set(args.dir, references, Path(folder))
        with progress(f"loading {args.model}"):
            ways = _ways(args.model)
        texts: dict[str, list[str]] = {}
        for label, transcribe in ways.items():
            with progress(label):
                texts[label] = [transcribe(sample.path) for sample in samples]
    print(_table(samples, texts))
    return 0


def build_set(directory: Path, references: dict[str, dict[str, str]], out: Path) -> list[Sample]:
    """Every referenced file of ``directory``, and each real one again as in RE_ENCODED."""
    samples = [
        Sample(group, directory / name, text)
        for group, refs in references.items()
        for name, text in refs.items()
    ]
    for group, (suffix, codec, container) in RE_ENCODED.items():
        for name, text in references.get("real", {}).items():
            copy = re_encode(directory / name, out / f"{Path(name).stem}{suffix}", codec, container)
            samples.append(Sample(group, copy, text))
    return samples


def re_encode(source: Path, dest: Path, codec: str, container: str) -> Path:
    """``source``'s sound encoded again with ``codec`` at 48 kHz mono, as Telegram keeps it."""
    import av

    with av.open(str(source)) as src, av.open(str(dest), "w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=VOICE_NOTE_RATE)
        stream.layout = "mono"
        stream.bit_rate = VOICE_NOTE_BITRATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=VOICE_NOTE_RATE)
        written = 0
        for frame in src.decode(audio=0):
            for piece in resampler.resample(frame):
                written = _encode(out, stream, piece, written)
        for piece in resampler.resample(None):
            written = _encode(out, stream, piece, written)
        out.mux(stream.encode(None))
    return dest


def _encode(out: Any, stream: Any, piece: Any, written: int) -> int:
    piece.pts = written
    piece.time_base = Fraction(1, VOICE_NOTE_RATE)
    out.mux(stream.encode(piece))
    return written + int(piece.samples)


def _ways(model: str) -> dict[str, Callable[[Path], str]]:
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    from bot.transcription.faster import FasterWhisperTranscriber, cpu_threads
    from bot.transcription.media import audio_chunks
    from bot.transcription.models import resolve_model

    whisper = WhisperModel(
        str(resolve_model(model)), device="cpu", compute_type="int8", cpu_threads=cpu_threads()
    )
    decoders: dict[str, Callable[[Path], Any]] = {
        "ours": lambda path: np.concatenate(list(audio_chunks(path))),
        "faster-whisper": lambda path: decode_audio(str(path)),
    }

    def way(decode: Callable[[Path], Any], condition: bool) -> Callable[[Path], str]:
        def run(path: Path) -> str:
            segments, _info = whisper.transcribe(
                decode(path),
                language=LANGUAGE,
                beam_size=BEAM_SIZE,
                vad_filter=False,
                condition_on_previous_text=condition,
            )
            return " ".join(s.text.strip() for s in segments)

        return run

    ways = {
        f"{name:<15} {'on' if condition else 'off':<13}": way(decode, condition)
        for name, decode in decoders.items()
        for condition in (False, True)
    }
    shipped = FasterWhisperTranscriber(model, device="cpu", compute_type="int8")
    ways[f"{'pipeline':<15} {'(as shipped)':<13}"] = lambda path: (
        shipped.transcribe(path, LANGUAGE).text
    )
    return ways


def _table(samples: list[Sample], texts: dict[str, list[str]]) -> str:
    import jiwer

    groups = [*dict.fromkeys(s.group for s in samples), "all"]
    header = f"{'decoding':<15} {'condition':<13}" + "".join(f"{g:>20}" for g in groups)
    lines = [
        f"{len(samples)} files, beam {BEAM_SIZE}, language {LANGUAGE}; WER (lower is better)",
        header,
        "-" * len(header),
    ]
    for label, heard in texts.items():
        cells = []
        for group in groups:
            chosen = [i for i, s in enumerate(samples) if group in ("all", s.group)]
            wer = jiwer.wer(
                [normalise(samples[i].reference) for i in chosen],
                [normalise(heard[i]) for i in chosen],
            )
            cells.append(f"{100 * float(wer):>18.2f} %")
        lines.append(label + "".join(cells))
    return "\n".join(lines)
