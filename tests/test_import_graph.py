"""The import graph, read from the source: what may import what.

A runtime module that imports the sandbox or the benchmarks drags the emulators and every
benchmark into the bot (and into ``hirebot --help``); a flow that imports an adapter puts a
platform's rule where the other platform cannot see it. Both are read from the code with
``ast`` (every ``import`` and ``from … import``, at any depth: a function-level import loads
the module just the same when it runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"

# May import the sandbox and the benchmarks: they are them, or play and measure with them.
TOOLING = ("bot/sandbox/", "bot/bench/", "bot/demo.py", "bot/cli.py")


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module ``path`` (in ``package``) imports, absolute: ``from bot import bench``
    gives ``bot.bench``, ``from . import review`` in bot.flows gives ``bot.flows.review``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            # ``from bot import bench`` imports the module bot.bench.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        bad = sorted(
            module
            for module in imported_modules(path, package_of(path))
            if any(module == f or module.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_reader_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    # The checks below are only as good as this reader: it must see the imports that hide.
    module = tmp_path / "probe.py"
    module.write_text(
        "from bot import bench\n"
        "from . import review\n"
        "def later():\n"
        "    import bot.sandbox.world\n"
        "    from bot.slack.blocks import card\n"
    )
    seen = imported_modules(module, "bot.flows")
    assert {"bot.bench", "bot.flows.review", "bot.sandbox.world", "bot.slack.blocks"} <= seen


def test_no_runtime_module_imports_the_sandbox_or_the_benchmarks() -> None:
    runtime = [
        path
        for path in modules_under(BOT) + modules_under(ROOT / "storage")
        if not str(path.relative_to(ROOT)).startswith(TOOLING)
    ]
    assert len(runtime) > 20  # the walk found the code
    assert offenders(runtime, ("bot.sandbox", "bot.bench")) == {}


@pytest.mark.parametrize("layer", ["bot/flows", "storage"])
def test_rules_and_storage_never_import_an_adapter(layer: str) -> None:
    forbidden = ("bot.slack", "bot.telegram", "slack_bolt", "slack_sdk", "telegram")
    assert offenders(modules_under(ROOT / layer), forbidden) == {}
