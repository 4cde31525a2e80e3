"""One media bench run in a fresh process, so that its peak RSS is the bot's alone.

``python -m bot.bench.media_run '<json spec>'`` prints one JSON list: each step of the bot's
media path with its time and the process's peak RSS after it.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bot.runtime  # noqa: F401  (everything a bot process loads, for an honest baseline)
from bot.limits import MediaLimit
from bot.transcription import load_transcriber
from bot.transcription.media import measure_upload, playable_copy
from storage.media import MediaFolder, opened_copy


def _peak_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(spec: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []

    def step(name: str, started: float, note: str) -> None:
        steps.append(
            {
                "step": name,
                "seconds": time.perf_counter() - started,
                "peak_mb": _peak_mb(),
                "note": note,
            }
        )

    started = time.perf_counter()
    transcriber = load_transcriber("faster-whisper", spec["model"])
    step(f"load {spec['model']}", started, "")

    started = time.perf_counter()
    data = Path(spec["upload"]).read_bytes()
    measured = measure_upload(data, float(MediaLimit.MAX_KEPT_SECONDS))
    assert measured.info is not None and measured.kept is not None, measured.problem
    info = measured.info
    note = f"measured {info.duration_seconds:.0f} s of {info.shown_seconds:.0f} s claimed"
    step("measure + keep (as the adapter)", started, note)

    started = time.perf_counter()
    store = MediaFolder(Path(spec["store"]))
    stored = store.put(measured.kept, ".mkv")
    del data, measured
    step("store the kept part", started, f"{stored.size / 1024 / 1024:.1f} MB")

    started = time.perf_counter()
    with opened_copy(store, stored.relpath) as media:
        transcript = transcriber.transcribe(media, "en")
    words = len(transcript.text.split())
    step("transcribe", started, f"{transcript.duration_seconds:.0f} s of audio, {words} words")

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        with opened_copy(store, stored.relpath) as media:
            copy = playable_copy(media, Path(folder))
        size = copy.stat().st_size / 1024 / 1024 if copy else 0.0
    step("Slack copy", started, f"{size:.1f} MB")
    return steps


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
