"""The layout's story, checked on the source: arrows point one way (api/ui -> kb, ingest -> kb), kb/ reaches no front
end except through its CLI, no import cycle among the packages' modules, and no module too long to read.

Imports are read with `ast` from the files, not by importing them, so a lazy import inside a function counts where
it should (layering) and is left out where it should be (cycles: it runs after every module has loaded).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("kb", "ingest", "api", "ui")
FRONT_ENDS = ("api", "ui", "ingest", "fastapi", "starlette", "streamlit", "uvicorn")
MAX_LINES = 450


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported, as dotted a name as the statement allows
    line: int
    module_level: bool  # False: inside a function, so it runs only when that function is called


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the four packages, by dotted name."""
    return {module_name(path): path for package in PACKAGES for path in sorted((PROJECT / package).rglob("*.py"))}


def _statements(body: list[ast.stmt], in_function: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement, nested ones included, with whether it sits inside a function (`if TYPE_CHECKING:`, `try:`
    and class bodies run at import, so their imports are module-level)."""
    for statement in body:
        yield statement, in_function
        inside = in_function or isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(statement, field, []):
                if isinstance(child, ast.ExceptHandler):
                    yield from _statements(child.body, inside)
                elif isinstance(child, ast.stmt):
                    yield from _statements([child], inside)


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    seen: set[int] = set()
    for statement, in_function in _statements(tree.body, False):
        if id(statement) in seen:
            continue
        seen.add(id(statement))
        if isinstance(statement, ast.Import):
            found += [Import(name, alias.name, statement.lineno, not in_function) for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in statement.names:
                # `from kb.cli import query` imports the module kb.cli.query; `from kb import KnowledgeBase`, kb.
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in known else base
                found.append(Import(name, target, statement.lineno, not in_function))
    return found


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    known = modules()
    return [found for name, path in known.items() for found in imports_of(name, path, known)]


def test_the_import_reader_sees_lazy_type_only_and_relative_imports(tmp_path: Path):
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import kb.models\n"
        "if TYPE_CHECKING:\n    from kb.core import KnowledgeBase\n"
        "try:\n    import api.app\nexcept ImportError:\n    pass\n"
        "def later():\n    from ingest.build import build_index\n"
        "class Holder:\n    import ui.client\n",
        encoding="utf-8",
    )
    known = {"kb.models": source, "kb.core": source, "api.app": source, "ingest.build": source, "ui.client": source}
    found = {(i.target, i.module_level) for i in imports_of("kb.sample", source, known)}
    assert found >= {("kb.models", True), ("kb.core", True), ("api.app", True), ("ingest.build", False), ("ui.client", True)}
    relative = tmp_path / "relative.py"
    relative.write_text("from .models import Chunk\nfrom . import core\n", encoding="utf-8")
    assert {i.target for i in imports_of("kb.relative", relative, known)} == {"kb.models", "kb.core"}


def test_kb_reaches_no_front_end_except_through_its_cli(graph: list[Import]):
    """kb/ is the domain: a function-level import counts too, since it still ties kb to that front end."""
    crossing = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in graph
        if i.source.split(".")[0] == "kb"
        and not (i.source == "kb.cli" or i.source.startswith("kb.cli."))
        and i.target.split(".")[0] in FRONT_ENDS
    ]
    assert crossing == []


def test_the_cli_reaches_front_ends_only_inside_its_commands(graph: list[Import]):
    """`kb --help` and the library stay light: the CLI imports api, ingest, uvicorn and streamlit when a command runs."""
    eager = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in graph
        if (i.source == "kb.cli" or i.source.startswith("kb.cli.")) and i.module_level
        and i.target.split(".")[0] in FRONT_ENDS
    ]
    assert eager == []


def test_the_ui_reaches_kb_only_for_its_shapes_and_settings(graph: list[Import]):
    """The UI talks to the API only; from kb it takes the wire models and the settings (KB_API_URL, keys)."""
    reached = {i.target for i in graph if i.source.split(".")[0] == "ui" and i.target.split(".")[0] == "kb"}
    assert reached <= {"kb.models", "kb.config"}, reached


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other, as a path that returns to its start."""
    return [_path_within(sorted(group)[0], group, edges) for group in cycle_groups(edges)]


def cycle_groups(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of modules (Tarjan): each module of a group reaches every other one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def _path_within(start: str, group: set[str], edges: dict[str, set[str]]) -> list[str]:
    """The shortest way from `start` back to itself inside its group (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if nxt in group and nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a cycle group but no path returns to it")


def test_the_cycle_finder_reports_each_cycle_as_a_path():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert sorted(cycles(edges)) == [["a", "b", "c", "a"], ["d", "d"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_packages_modules(graph: list[Import]):
    edges: dict[str, set[str]] = {}
    for i in graph:
        if i.module_level and i.target.split(".")[0] in PACKAGES and i.target != i.source:
            edges.setdefault(i.source, set()).add(i.target)
    groups = cycle_groups(edges)
    report = "import cycles:\n" + "\n".join(" -> ".join(_path_within(sorted(g)[0], g, edges)) for g in groups)
    assert groups == [], report


def test_no_module_is_over_450_lines():
    long = {
        str(path.relative_to(PROJECT)): n
        for path in modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, long
