"""Raw faster-whisper on the load bench's answers: the yardstick for the bot's throughput.

``python -m bot.bench.raw_whisper_run '<json spec>'``: loads the model as faster-whisper's
README shows (int8 on CPU, the bot's threads per answer) and transcribes ``files`` with
``streams`` at once, as many as the topology transcribes at once, with the bot's settings
(beam, language pinned, ``condition_on_previous_text``). Prints one JSON line: audio seconds,
wall seconds, peak RSS. Run in a fresh process, after the bot processes stopped, so it has
the same cores to itself.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def main(spec: dict[str, Any]) -> dict[str, Any]:
    from faster_whisper import WhisperModel

    from bot.transcription.faster import BEAM_SIZE, CONDITION_ON_PREVIOUS_TEXT, cpu_threads
    from bot.transcription.models import resolve_model

    streams = int(spec["streams"])
    model = WhisperModel(
        str(resolve_model(spec["model"])),
        device="cpu",
        compute_type="int8",
        # Each stream's threads as in a bot or worker process running ``per_process``.
        cpu_threads=cpu_threads(int(spec.get("per_process", streams))),
        num_workers=streams,
    )

    def transcribe(path: str) -> float:
        segments, info = model.transcribe(
            path,
            language="en",
            beam_size=BEAM_SIZE,
            vad_filter=False,
            condition_on_previous_text=CONDITION_ON_PREVIOUS_TEXT,
        )
        for _segment in segments:  # a generator: the work happens while it is read
            pass
        return float(info.duration)

    started = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        audio = sum(pool.map(transcribe, spec["files"]))
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"audio_seconds": audio, "wall_seconds": wall, "peak_mb": peak}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
