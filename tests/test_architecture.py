"""The codemap in ARCHITECTURE.md, kept true: which package may import which, no import cycle,
the root of the package holding only the pipeline's spine, unique module names, readable sizes."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "crawler"

# What each part may import (besides itself, ``crawler.errors`` and ``crawler.models``, which
# everything may use).  Read top to bottom, it is the pipeline: nothing imports what comes later,
# and nothing imports the command line.  ARCHITECTURE.md explains each line.
MAY_IMPORT: dict[str, set[str]] = {
    "net": set(),
    "sources": {"net"},
    "storage": {"net"},  # only net.redact: a stale reason is masked before it is written
    "policy": {"sources", "storage"},
    "outputs": {"net", "sources", "storage", "policy"},
    "branch": {"net", "storage", "outputs"},
    "history": {"net", "sources", "storage", "policy", "outputs", "branch"},
    "config": {"net", "sources", "storage", "policy", "outputs"},
    "run": {"net", "sources", "storage", "policy", "outputs", "history", "config"},
    "shard": {"sources", "config"},
    "merge": {"net", "sources", "storage", "policy", "outputs", "config"},
    "schedule": {"storage", "outputs", "branch", "config", "run"},
    "homepage": {"net", "sources", "storage", "outputs", "shard"},
    "commands": {
        "net", "sources", "storage", "policy", "outputs", "branch", "history",
        "config", "run", "shard", "merge", "schedule", "homepage",
    },
    "cli": {"net", "commands"},
    "__main__": {"cli", "commands"},  # commands: only the stored help pages (commands._help_pages)
}  # fmt: skip
SPINE = {"__init__", "__main__", "cli", "config", "errors", "models", "run", "schedule", "shard", "merge"}
MAX_LINES = 500
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports() -> dict[str, set[str]]:
    """Each module's imports of other modules of ours, at any depth of the file (lazy ones too)."""
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import submodule` is an import of the submodule alone.
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
                targets = subs if len(subs) == len(node.names) else [node.module, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name].update(t for t in targets if t in known and t != name)
    return graph


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_each_part_imports_only_what_comes_before_it() -> None:
    wrong = []
    for module, targets in imports().items():
        for target in targets:
            here, there = part(module), part(target)
            # Everything may use errors, models and the package's own __init__ (its version).
            if here == there or there in {"errors", "models", "crawler"} or module == "crawler":
                continue
            if there not in MAY_IMPORT.get(here, set()):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_the_edge_rules_the_codemap_names() -> None:
    graph = imports()
    for module, targets in graph.items():
        if part(module) == "net":
            assert not {part(t) for t in targets} - {"net", "errors", "models"}, module
        if part(module) == "policy":
            assert not any(part(t) == "net" for t in targets), module
        if part(module) == "storage":
            assert {t for t in targets if part(t) == "net"} <= {"crawler.net.redact"}, module


def test_no_import_cycle() -> None:
    graph = imports()
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


def test_the_root_holds_only_the_spine() -> None:
    root = {path.stem for path in PACKAGE.glob("*.py")}
    assert root <= SPINE and len(root) <= 10, sorted(root - SPINE)
    assert all(name in MAY_IMPORT or name in {"errors", "models", "__init__"} for name in root)
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(MAY_IMPORT), packages - set(MAY_IMPORT)


def test_no_two_modules_share_a_name() -> None:
    """Except the commands, each named after the command it drives (``commands/publish.py`` is the
    ``publish`` command over ``branch/publish.py``)."""
    seen: dict[str, list[str]] = defaultdict(list)
    for name in modules():
        if part(name) != "commands" and not name.endswith(("__init__", "__main__")):
            seen[name.rsplit(".", 1)[-1]].append(name)
    assert {stem: names for stem, names in seen.items() if len(names) > 1} == {}


def test_every_module_can_be_read_in_one_sitting() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_every_function_can_be_held_in_the_head() -> None:
    sizes = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sizes[f"{name}.{node.name}"] = (node.end_lineno or node.lineno) - node.lineno + 1
    assert {name: n for name, n in sizes.items() if n > MAX_FUNCTION_LINES} == {}


@pytest.mark.parametrize("mentioned", ["net/", "storage/", "branch/", "policy/", "sources/", "outputs/",
                                       "history/", "homepage/", "commands/"])  # fmt: skip
def test_the_codemap_names_every_package(mentioned: str) -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert f"`crawler/{mentioned}`" in text
