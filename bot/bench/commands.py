"""The ``hirebot bench`` parser: bot.cli hands it everything after ``bench``.

Each bench's module loads only when that bench is chosen: they import numpy, PyAV, Whisper or
the sandbox (and through it the whole runtime), which would make ``hirebot bench -h`` take
seconds. So the names and one-line helps live here, and the chosen module adds its options.
"""

from __future__ import annotations

import argparse
import importlib

# name: (module, one-line help)
BENCHES: dict[str, tuple[str, str]] = {
    "transcription": (
        "bot.bench.transcription",
        "real-time factor, WER, load time and peak RSS per backend",
    ),
    "slack": ("bot.bench.slack", "Slack ack latency under concurrent load"),
    "load": (
        "bot.bench.load",
        "N candidates interview at once: latencies, throughput, RSS, nothing lost (--faults)",
    ),
    "media": ("bot.bench.media", "peak RSS of a bot handed hours in 20 MB"),
    "decoding": (
        "bot.bench.decoding",
        "WER of our decoding vs faster-whisper's, condition_on_previous_text off/on",
    ),
    "calendar-feed": (
        "bot.bench.calendar_feed",
        "time and peak RSS of reading hostile and busy calendar feeds",
    ),
    "transcribe-overhead": (
        "bot.bench.overhead",
        "hirebot transcribe vs raw faster-whisper, end to end",
    ),
}


def parse(argv: list[str]) -> argparse.Namespace:
    """The parsed ``hirebot bench`` arguments, with the chosen bench's ``handler``."""
    parser = argparse.ArgumentParser(
        prog="hirebot bench", description="measure speed, accuracy and memory"
    )
    benches = parser.add_subparsers(dest="bench_command", required=True)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module, help_text) in BENCHES.items():
        sub = benches.add_parser(name, help=help_text)
        if name == chosen:
            importlib.import_module(module).arguments(sub)
    args = parser.parse_args(argv)
    args.command = "bench"
    return args
