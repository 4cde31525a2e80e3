"""``hirebot bench transcribe-overhead [FILE…]``: what ``hirebot transcribe`` costs on top of
raw faster-whisper, end to end, as an operator waits for it.

Both run as fresh processes, one after the other, ``--repeat`` times each (median counts):
``hirebot transcribe`` (start-up, settings, the weights' SHA-256 check, our decoding and
silence check, the model) against a bare script that imports faster-whisper, loads the same
weights with the same threads and transcribes the same files with the bot's settings (beam
5, language pinned, ``condition_on_previous_text`` as the bot sets it, no VAD). Default
files: the shipped answers in bot/sandbox/samples (5-7 s voice and video notes).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.errors import ConfigError

TARGET_OVERHEAD_SECONDS = 0.3
SAMPLES = Path(__file__).resolve().parents[1] / "sandbox" / "samples"
DEFAULT_FILES = ("answer1.ogg", "answer2.ogg", "answer2.mp4")

# The raw side: faster-whisper as its README shows it, with the bot's settings.
_RAW = """
import json, sys
from faster_whisper import WhisperModel
spec = json.loads(sys.argv[1])
model = WhisperModel(spec["model"], device="cpu", compute_type="int8", cpu_threads=spec["threads"])
for path in spec["files"]:
    segments, info = model.transcribe(
        path,
        language=spec["language"],
        beam_size=spec["beam"],
        vad_filter=False,
        condition_on_previous_text=spec["condition"],
    )
    print(path, " ".join(s.text.strip() for s in segments))
"""


def arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's options: bot.bench.commands imports this module only when it is chosen."""
    parser.add_argument("files", nargs="*", type=Path, help="default: the shipped answers")
    parser.add_argument("--model", default="tiny.en", help="Whisper model (default tiny.en)")
    parser.add_argument("--language", default="en", help="pinned language (default en)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the median counts")
    parser.set_defaults(handler=bench)


def bench(args: argparse.Namespace) -> int:
    from bot.transcription.faster import BEAM_SIZE, CONDITION_ON_PREVIOUS_TEXT, cpu_threads
    from bot.transcription.models import resolve_model

    files = [str(f) for f in args.files] or [str(SAMPLES / name) for name in DEFAULT_FILES]
    spec = {
        "model": str(resolve_model(args.model)),
        "threads": cpu_threads(),
        "files": files,
        "language": args.language,
        "beam": BEAM_SIZE,
        "condition": CONDITION_ON_PREVIOUS_TEXT,
    }
    commands = {
        "raw faster-whisper": [sys.executable, "-c", _RAW, json.dumps(spec)],
        "hirebot transcribe": [
            *(sys.executable, "-m", "bot.cli", "transcribe", "--backend", "faster-whisper"),
            *("--model", args.model, "--language", args.language, *files),
        ],
    }
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(args.repeat):
        # In pairs, back to back and in turns first, so that a busy moment on the machine
        # (or a warm cache) falls on both sides alike.
        order = list(commands) if index % 2 == 0 else list(reversed(commands))
        for name in order:
            taken, used = _run(name, commands[name])
            wall[name].append(taken)
            cpu[name].append(used)
    print(
        f"{len(files)} files ({', '.join(Path(f).name for f in files)}), {args.model} int8, "
        f"{spec['threads']} threads, beam {BEAM_SIZE}, language {args.language}; "
        f"a fresh process each time, median of {args.repeat}:"
    )
    for name in commands:
        spread = ", ".join(f"{s:.2f}" for s in wall[name])
        print(
            f"  {name:<20} wall {statistics.median(wall[name]):6.2f} s   "
            f"CPU {statistics.median(cpu[name]):6.2f} s   (wall: {spread})"
        )
    raw, ours = commands
    # The median of each pair's difference: steadier than the difference of the medians.
    overhead = statistics.median(o - r for o, r in zip(wall[ours], wall[raw], strict=True))
    overhead_cpu = statistics.median(o - r for o, r in zip(cpu[ours], cpu[raw], strict=True))
    verdict = "✓" if overhead <= TARGET_OVERHEAD_SECONDS else "✗"
    # CPU time is printed too: it moves less than wall time when other work shares the box.
    print(
        f"  {verdict} hirebot transcribe costs {overhead:+.2f} s wall ({overhead_cpu:+.2f} s "
        f"CPU) over raw faster-whisper, median of the pairs (target: at most "
        f"+{TARGET_OVERHEAD_SECONDS} s)"
    )
    return 0 if overhead <= TARGET_OVERHEAD_SECONDS else 1


def _run(name: str, command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    taken = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise ConfigError(f"{name} failed:\n{done.stderr.strip()[-2000:]}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return taken, used
