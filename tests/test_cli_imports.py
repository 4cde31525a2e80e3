"""``hirebot --help`` and ``hirebot transcribe`` load only what they need.

Each runs in a fresh interpreter (this one has everything loaded already) that prints the
modules it holds afterwards: the sandbox, the benchmarks, Bolt, PTB or torch there mean a
command pays seconds for code it never runs. No timing is asserted; what is loaded is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANSWER1_OGG = ROOT / "bot" / "sandbox" / "samples" / "answer1.ogg"

# Never needed by --help nor by transcribe.
HEAVY = ("slack_bolt", "slack_sdk", "telegram", "bot.sandbox", "bot.bench", "torch", "whisper")
# Needed by transcribe (Whisper, decoding), never by --help; nor are the settings, the
# database layer or the event loop.
TRANSCRIBING = ("faster_whisper", "ctranslate2", "av", "numpy")
HELP_SKIPS = (*HEAVY, *TRANSCRIBING, "pydantic_settings", "sqlmodel", "sqlalchemy", "asyncio")

_PROBE = """
import contextlib, io, json, sys
from bot.cli import main

def loaded(names):
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in sys.modules))

names = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
after_help = loaded(names)
code = main(sys.argv[2:]) if len(sys.argv) > 2 else None
print(json.dumps({"help": after_help, "command": loaded(names), "code": code}))
"""


def probe(names: tuple[str, ...], *command: str, tmp_path: Path) -> dict[str, object]:
    result: dict[str, object] = _in_fresh_interpreter(_PROBE, names, command, tmp_path)
    return result


def _in_fresh_interpreter(
    script: str, names: tuple[str, ...], argv: tuple[str, ...], tmp_path: Path
) -> Any:
    """What ``script`` (given ``names`` as JSON, then ``argv``) prints last, as JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HIREBOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(names), *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env from the checkout
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_loads_neither_platforms_nor_whisper_nor_settings(tmp_path: Path) -> None:
    names = (*HELP_SKIPS, "bot.cli", "argparse")
    assert probe(names, tmp_path=tmp_path)["help"] == ["argparse", "bot.cli"]


def test_transcribe_loads_whisper_but_no_platform_sandbox_or_bench(tmp_path: Path) -> None:
    # Backend and model given: not even the settings (or the database layer) are read.
    names = (*HEAVY, *TRANSCRIBING, "pydantic_settings", "sqlmodel", "sqlalchemy")
    command = ("transcribe", "--backend", "faster-whisper", "--model", "tiny.en")
    result = probe(names, *command, str(ANSWER1_OGG), tmp_path=tmp_path)
    assert result["code"] == 0
    assert result["command"] == sorted(TRANSCRIBING)


def test_bench_help_loads_no_bench_module_and_a_bench_loads_only_its_own(tmp_path: Path) -> None:
    # `hirebot bench -h` lists every bench without importing one (the Slack bench alone pulls
    # in the sandbox and the whole runtime); `hirebot bench media -h` imports the media bench.
    probe_bench = (
        "import contextlib, io, json, sys\n"
        "from bot.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(sys.argv[2:])\n"
        "names = json.loads(sys.argv[1])\n"
        "print(json.dumps(sorted(n for n in names if n in sys.modules)))\n"
    )
    names = ("bot.bench.commands", "bot.bench.slack", "bot.bench.media", "bot.sandbox")
    for argv, expected in (
        (("bench", "--help"), ["bot.bench.commands"]),
        (("bench", "media", "--help"), ["bot.bench.commands", "bot.bench.media"]),
    ):
        assert _in_fresh_interpreter(probe_bench, names, argv, tmp_path) == expected
