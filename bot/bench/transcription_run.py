"""One transcription bench run, alone in a fresh process so that its peak memory is its own.

``python -m bot.bench.transcription_run '<json spec>'`` prints one JSON object: load time,
per-file seconds and text, peak RSS, and how late the event loop's ticks came while the
transcriptions ran in a worker thread (the bot's situation: candidates keep writing while an
answer is transcribed).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# How often the "other candidates" tick: a handler that wants the loop every 10 ms.
_TICK_SECONDS = 0.01

Transcribe = Callable[[Path], str]


def _loader(spec: dict[str, Any]) -> Callable[[], Transcribe]:
    model, compute, beam = spec["model"], spec["compute"], int(spec["beam"])
    language = spec["language"]
    if spec["path"] == "raw":

        def raw() -> Transcribe:
            from faster_whisper import WhisperModel

            from bot.transcription.models import resolve_model

            # faster-whisper as its README shows it: defaults, fed the file path.
            whisper = WhisperModel(str(resolve_model(model)), device="cpu", compute_type=compute)

            def run(path: Path) -> str:
                segments, _info = whisper.transcribe(str(path), beam_size=beam, language=language)
                return " ".join(s.text.strip() for s in segments)

            return run

        return raw
    if spec["backend"] == "openai-whisper":

        def openai() -> Transcribe:
            from bot.transcription.openai_whisper import OpenAIWhisperTranscriber

            transcriber = OpenAIWhisperTranscriber(model, device="cpu", beam_size=beam)
            return lambda path: transcriber.transcribe(path, language).text

        return openai

    def pipeline() -> Transcribe:
        from bot.transcription.faster import FasterWhisperTranscriber

        transcriber = FasterWhisperTranscriber(
            model, device="cpu", compute_type=compute, beam_size=beam
        )
        return lambda path: transcriber.transcribe(path, language).text

    return pipeline


async def _measure(transcribe: Transcribe, files: list[Path], repeat: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    running = True

    async def other_candidates() -> None:
        while running:
            started = time.perf_counter()
            await asyncio.sleep(_TICK_SECONDS)
            lags.append(time.perf_counter() - started - _TICK_SECONDS)

    ticker = asyncio.create_task(other_candidates())
    seconds: dict[str, list[float]] = {path.name: [] for path in files}
    texts: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for _ in range(repeat):
            for path in files:
                started = time.perf_counter()
                texts[path.name] = await loop.run_in_executor(pool, transcribe, path)
                seconds[path.name].append(time.perf_counter() - started)
    running = False
    await ticker
    lags.sort()
    return {
        "seconds": seconds,
        "texts": texts,
        "lag_max_ms": 1000 * lags[-1] if lags else 0.0,
        "lag_p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        "ticks": len(lags),
    }


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    load = _loader(spec)
    started = time.perf_counter()
    transcribe = load()
    load_seconds = time.perf_counter() - started
    files = [Path(name) for name in spec["files"]]
    measured = asyncio.run(_measure(transcribe, files, int(spec["repeat"])))
    # ru_maxrss is in KiB on Linux.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_seconds": load_seconds, "peak_rss_mb": peak_mb, **measured}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
