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


def imported_modules(path: Path, package: str, *, on_import_only: bool = False) -> set[str]:
    """Every module ``path`` (in ``package``) imports, absolute: ``from bot import bench``
    gives ``bot.bench``, ``from . import review`` in bot.flows gives ``bot.flows.review``.

    ``on_import_only``: only the imports that run when the module is imported (its top level,
    not those inside functions nor under ``if TYPE_CHECKING``).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    nodes = _run_on_import(tree.body) if on_import_only else ast.walk(tree)
    for node in nodes:
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


def _run_on_import(body: list[ast.stmt]) -> list[ast.AST]:
    found: list[ast.AST] = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.Try, ast.If, ast.With)):
            for inner in ast.iter_child_nodes(node):
                if isinstance(inner, ast.stmt):
                    found += _run_on_import([inner])
                elif isinstance(inner, ast.ExceptHandler):
                    found += _run_on_import(inner.body)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def test_storage_imports_nothing_of_the_bot() -> None:
    assert offenders(modules_under(ROOT / "storage"), ("bot",)) == {}


def test_no_import_cycle_among_the_modules_that_load_each_other() -> None:
    # Cycles through function-level imports are how a package defers a heavy backend
    # (bot.transcription loads faster-whisper only when asked); at import time there are none.
    files = modules_under(BOT) + modules_under(ROOT / "storage")
    names = {module_name(path): path for path in files}
    graph = {
        name: {
            imported
            for imported in imported_modules(
                path,
                name if path.name == "__init__.py" else package_of(path),
                on_import_only=True,
            )
            if imported in names and imported != name
        }
        for name, path in names.items()
    }
    assert sum(len(edges) for edges in graph.values()) > 100  # the reader found the imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
