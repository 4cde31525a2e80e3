"""``hirebot transcribe FILE…``: what the bot would hear in these recordings, and how fast."""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.errors import MediaError

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_TICK_SECONDS = 0.1


@contextmanager
def progress(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``label`` with a spinner and the seconds elapsed until the block ends.

    On a terminal the line redraws itself; elsewhere (CI logs, pipes) it prints the label
    once and the time taken at the end, so logs stay readable.
    """
    out = stream or sys.stderr
    started = time.perf_counter()
    done = threading.Event()
    live = out.isatty()

    def spin() -> None:
        for frame in itertools.cycle(_FRAMES):
            if done.wait(_TICK_SECONDS):
                return
            out.write(f"\r{frame} {label} {time.perf_counter() - started:4.1f} s")
            out.flush()

    spinner = threading.Thread(target=spin, daemon=True)
    if live:
        spinner.start()
    else:
        out.write(f"{label}…\n")
    mark = "✗"
    try:
        yield
        mark = "✓"
    finally:
        done.set()
        if live:
            spinner.join()
        start_of_line = "\r" if live else ""
        out.write(f"{start_of_line}{mark} {label} {time.perf_counter() - started:4.1f} s\n")
        out.flush()


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "transcribe", help="transcribe recordings with the configured Whisper model"
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--backend", help="faster-whisper or openai-whisper (default: settings)")
    parser.add_argument("--model", help="model name or path (default: HIREBOT_WHISPER_MODEL)")
    parser.add_argument("--language", help="pin a language code, e.g. en; default: detect")
    parser.set_defaults(handler=transcribe_files)


def transcribe_files(args: argparse.Namespace) -> int:
    from bot.transcription import load_transcriber

    # faster-whisper logs every file's duration at INFO, which would break the progress lines.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    backend, model = args.backend, args.model
    if backend is None or model is None:
        # Only then: pydantic-settings takes a noticeable part of a second to import.
        from bot.config import Settings

        settings = Settings()
        backend = backend or settings.whisper_backend
        model = model or settings.whisper_model
    with progress(f"loading {model} ({backend})"):
        transcriber = load_transcriber(backend, model)
    failures = 0
    for index, path in enumerate(args.files, 1):
        started = time.perf_counter()
        try:
            with progress(f"[{index}/{len(args.files)}] {path.name}"):
                transcript = transcriber.transcribe(path, args.language)
        except (MediaError, FileNotFoundError) as err:
            print(f"{path}: {err}")
            failures += 1
            continue
        taken = time.perf_counter() - started
        speed = transcript.duration_seconds / taken if taken > 0 else 0.0
        print(
            f"{path}: {transcript.duration_seconds:.1f} s of audio, "
            f"language {transcript.language or '?'} ({transcript.language_probability:.2f}), "
            f"transcribed in {taken:.2f} s ({speed:.1f}× real time)"
        )
        if transcript.no_speech or not transcript.text:
            print("  (no speech heard)")
        else:
            print(f"  {transcript.text}")
        if transcript.low_confidence and not transcript.no_speech:
            print("  (low confidence: listen to check)")
    return 1 if failures else 0
