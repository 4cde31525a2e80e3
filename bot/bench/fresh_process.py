"""Run one bench measurement in a fresh Python process and read back its JSON.

A fresh process makes its peak RSS and its import time its own. Every such run prints its
result as one JSON line last on stdout; anything before it (a library's chatter) is ignored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bot.errors import ConfigError


def run_json(module: str, *arguments: str, what: str | None = None) -> Any:
    """``python -m module arguments…``'s last stdout line, parsed; ConfigError with the end
    of its stderr when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(f"{what or module} failed:\n{done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
