"""The ``hirebot bench`` parser: bot.cli hands it everything after ``bench``."""

from __future__ import annotations

import argparse

from bot.bench import decoding, media, overhead, slack, transcription


def parse(argv: list[str]) -> argparse.Namespace:
    """The parsed ``hirebot bench`` arguments, with the chosen bench's ``handler``."""
    parser = argparse.ArgumentParser(
        prog="hirebot bench", description="measure speed, accuracy and memory"
    )
    benches = parser.add_subparsers(dest="bench_command", required=True)
    transcription.register(benches)
    slack.register(benches)
    media.register(benches)
    decoding.register(benches)
    overhead.register(benches)
    args = parser.parse_args(argv)
    args.command = "bench"
    return args
