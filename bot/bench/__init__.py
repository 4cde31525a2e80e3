"""``hirebot bench …``: commands that measure hirebot and print the figures we quote."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.bench import media, slack, transcription

    bench = commands.add_parser("bench", help="measure speed, accuracy and memory")
    benches = bench.add_subparsers(dest="bench_command", required=True)
    transcription.register(benches)
    slack.register(benches)
    media.register(benches)
