"""``hirebot bench transcription [DIR]``: speed, accuracy and memory of each Whisper backend.

DIR holds audio files and a ``transcripts.json`` of the form
``{"real": {file: reference}, "synthetic": {file: reference}}`` (as ../shared/data/speech).
Every configuration runs in its own fresh process (honest peak RSS), over the same files,
with the same weights, beam size and pinned language, one after the other; the table then
compares our pipeline with raw faster-whisper and with openai-whisper measured in this run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bench.fresh_process import run_json
from bot.errors import ConfigError

DEFAULT_DIR = Path("../shared/data/speech")
BEAM_SIZE = 5
LANGUAGE = "en"  # the data set is English; tiny.en is English-only anyway

# Targets from the transcription issue, for tiny.en int8 on a 2-core machine.
TARGET_RTF = 12.0
TARGET_VS_RAW = 0.9
TARGET_VS_OPENAI = 1.5
TARGET_WER = {"real": 0.05, "synthetic": 0.08}
TARGET_RSS_MB = 400.0


@dataclass(frozen=True)
class Run:
    backend: str
    model: str
    compute: str
    path: str  # "pipeline": hirebot's transcriber; "raw": WhisperModel.transcribe(file)

    @property
    def label(self) -> str:
        return f"{self.backend} {self.model} {self.compute} {self.path}"


@dataclass(frozen=True)
class Outcome:
    run: Run
    load_seconds: float
    peak_rss_mb: float
    audio_seconds: float
    seconds: float  # sum over files of each file's median time
    wer: dict[str, float]
    lag_max_ms: float
    lag_p99_ms: float

    @property
    def speed(self) -> float:
        """Real-time factor as "× real time": seconds of audio per second of work."""
        return self.audio_seconds / self.seconds


def arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's options: bot.bench.commands imports this module only when it is chosen."""
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--models", default="tiny.en", help="comma-separated, e.g. tiny.en,base")
    parser.add_argument("--repeat", type=int, default=3, help="passes; each file's median counts")
    parser.set_defaults(handler=bench)


def bench(args: argparse.Namespace) -> int:
    from bot.transcription.cli import progress
    from bot.transcription.media import probe

    # Checked first: the word error rate is scored after minutes of transcription.
    require_jiwer("transcription")
    references = references_in(args.dir)
    files = sorted({name for refs in references.values() for name in refs})
    durations = {name: probe(args.dir / name).duration_seconds for name in files}
    openai = importlib.util.find_spec("torch") is not None
    if not openai:
        print("openai-whisper runs skipped: torch is not installed", file=sys.stderr)
    outcomes: list[Outcome] = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        runs = [
            Run("faster-whisper", model, "int8", "pipeline"),
            Run("faster-whisper", model, "int8", "raw"),
        ]
        if openai:
            runs.append(Run("openai-whisper", model, "float32", "pipeline"))
        for run in runs:
            with progress(run.label):
                raw = _run(run, [args.dir / name for name in files], args.repeat)
            outcomes.append(_outcome(run, raw, references, durations))
    audio = sum(durations.values())
    print(
        f"\n{len(files)} files, {audio:.0f} s of audio, beam {BEAM_SIZE}, language "
        f"{LANGUAGE}, median of {args.repeat} passes, each configuration in a fresh process"
    )
    print(_table(outcomes))
    print(_verdicts(outcomes))
    return 0


def require_jiwer(bench: str) -> None:
    """Refuse before any work when jiwer (the ``bench`` extra) is missing: word error rates
    are scored after minutes of transcription."""
    try:
        import jiwer  # noqa: F401
    except ImportError as err:
        raise ConfigError(
            f"hirebot bench {bench} scores word error rates with jiwer, which is not "
            "installed: pip install 'hirebot[bench]'."
        ) from err


def references_in(directory: Path) -> dict[str, dict[str, str]]:
    """The reference transcripts of ``directory``'s transcripts.json, by set and file."""
    index = directory / "transcripts.json"
    if not index.is_file():
        raise ConfigError(
            f"{index} not found: the folder needs audio files and a transcripts.json."
        )
    data: dict[str, Any] = json.loads(index.read_text())
    sets = {
        name: {file: str(text) for file, text in data.get(name, {}).items()}
        for name in ("real", "synthetic")
    }
    missing = [f for refs in sets.values() for f in refs if not (directory / f).is_file()]
    if missing:
        raise ConfigError(f"transcripts.json names files that are not in {directory}: {missing}")
    return sets


def _run(run: Run, files: list[Path], repeat: int) -> dict[str, Any]:
    spec = {
        "backend": run.backend,
        "model": run.model,
        "compute": run.compute,
        "path": run.path,
        "beam": BEAM_SIZE,
        "language": LANGUAGE,
        "repeat": repeat,
        "files": [str(f) for f in files],
    }
    result: dict[str, Any] = run_json(
        "bot.bench.transcription_run", json.dumps(spec), what=run.label
    )
    return result


def _outcome(
    run: Run,
    raw: dict[str, Any],
    references: dict[str, dict[str, str]],
    durations: dict[str, float],
) -> Outcome:
    import jiwer

    seconds = sum(statistics.median(times) for times in raw["seconds"].values())
    wer = {
        name: float(
            jiwer.wer(
                [normalise(text) for text in refs.values()],
                [normalise(raw["texts"][file]) for file in refs],
            )
        )
        for name, refs in references.items()
        if refs
    }
    return Outcome(
        run=run,
        load_seconds=float(raw["load_seconds"]),
        peak_rss_mb=float(raw["peak_rss_mb"]),
        audio_seconds=sum(durations[name] for name in raw["seconds"]),
        seconds=seconds,
        wer=wer,
        lag_max_ms=float(raw["lag_max_ms"]),
        lag_p99_ms=float(raw["lag_p99_ms"]),
    )


def _table(outcomes: list[Outcome]) -> str:
    header = (
        f"{'backend':<15} {'model':<8} {'compute':<8} {'path':<9} {'load s':>6} "
        f"{'× real time':>11} {'WER real':>8} {'WER synth':>9} {'peak RSS':>9} "
        f"{'loop lag p99/max':>16}"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        lines.append(
            f"{o.run.backend:<15} {o.run.model:<8} {o.run.compute:<8} {o.run.path:<9} "
            f"{o.load_seconds:>6.2f} {o.speed:>10.1f}× {_pct(o.wer.get('real')):>8} "
            f"{_pct(o.wer.get('synthetic')):>9} {o.peak_rss_mb:>6.0f} MB "
            f"{o.lag_p99_ms:>7.1f}/{o.lag_max_ms:.1f} ms"
        )
    return "\n".join(lines)


def _verdicts(outcomes: list[Outcome]) -> str:
    lines = ["", "side by side (same run, same files, same weights):"]
    by_key = {(o.run.backend, o.run.model, o.run.path): o for o in outcomes}
    for o in outcomes:
        if (o.run.backend, o.run.path) != ("faster-whisper", "pipeline"):
            continue
        model = o.run.model
        raw = by_key.get(("faster-whisper", model, "raw"))
        openai = by_key.get(("openai-whisper", model, "pipeline"))
        checks: list[tuple[str, bool]] = []
        if raw is not None:
            ratio = o.speed / raw.speed
            checks.append(
                (f"{model}: pipeline / raw faster-whisper = {ratio:.2f}×", ratio >= TARGET_VS_RAW)
            )
        if openai is not None:
            ratio = o.speed / openai.speed
            checks.append(
                (f"{model}: pipeline / openai-whisper = {ratio:.2f}×", ratio >= TARGET_VS_OPENAI)
            )
        if model == "tiny.en":
            checks.append((f"tiny.en: pipeline {o.speed:.1f}× real time", o.speed >= TARGET_RTF))
            for name, target in TARGET_WER.items():
                if name in o.wer:
                    checks.append(
                        (f"tiny.en: WER {name} {_pct(o.wer[name])}", o.wer[name] <= target)
                    )
            checks.append(
                (f"tiny.en: worker peak RSS {o.peak_rss_mb:.0f} MB", o.peak_rss_mb <= TARGET_RSS_MB)
            )
        lines.extend(f"  {'✓' if ok else '✗'} {text}" for text, ok in checks)
    lines.append(
        "  loop lag: how late a 10 ms asyncio tick fired while transcriptions ran in a worker "
        "thread (what another candidate's message would wait)"
    )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


# WER normalisation: case, punctuation and number spelling must not count as errors, as the
# references spell numbers out ("three hundred milliseconds") and Whisper writes digits.
_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))


def spell_number(n: int) -> str:
    """``300`` → ``"three hundred"`` (the references' spelling, without "and")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {spell_number(rest)}" if rest else "")
    for scale, word in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{spell_number(high)} {word}" + (f" {spell_number(rest)}" if rest else "")
    raise AssertionError("unreachable")


def normalise(text: str) -> str:
    """Lower case, numbers spelled out, punctuation gone, single spaces."""
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,500 → 1500
    text = re.sub(r"\d+", lambda m: f" {spell_number(int(m.group()))} ", text)
    text = text.replace("%", " percent ")
    text = re.sub(r"[-–—/]", " ", text)  # "follow-up" = "follow up"
    text = re.sub(r"[^\w\s]", "", text)
    return " ".join(text.split())
