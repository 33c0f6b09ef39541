"""The house has no import circles, and its layers import only downwards.

Read from the source with ``ast`` (nothing is imported): every ``import`` counts wherever it is
written, at module level or inside a function (a lazy import closes a circle just the same, only
later), except those under ``if TYPE_CHECKING:``, which never run; such type-only edges are
reported by ``type_only_cycles`` but allowed.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "recorder", "minutes", "record")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for package in PACKAGES
    # a native extension's stub (server/sfu/_srtp_send.pyi) stands for its module
    for path in [*(ROOT / package).rglob("*.pyi"), *(ROOT / package).rglob("*.py")]
}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement below ``node``, and whether it runs only for the type checker."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, type_only
        elif isinstance(child, ast.If) and _type_checking(child):
            for part in child.body:
                yield from _imports(ast.Module(body=[part], type_ignores=[]), True)
            for part in child.orelse:
                yield from _imports(ast.Module(body=[part], type_ignores=[]), type_only)
        else:
            yield from _imports(child, type_only)


def _known(name: str) -> str | None:
    """The project module ``name`` is, or is inside; None for a third-party module."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, statement: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    else:
        base = statement.module or ""
        if statement.level:
            package = module.split(".")
            if MODULES[module].name != "__init__.py":
                package = package[:-1]
            package = package[:len(package) - (statement.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                 for alias in statement.names]
    for name in names:
        found = _known(name)
        if found is not None and found != module:
            yield found


@functools.cache
def _graph(include_type_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        for statement, type_only in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if include_type_only or not type_only:
                graph[module].update(_targets(module, statement))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_runtime_import_cycles() -> None:
    assert cycles(_graph(include_type_only=False)) == []


def test_no_import_cycles_even_for_the_type_checker() -> None:
    """Not required (a TYPE_CHECKING import never runs), but the house has none today."""
    assert cycles(_graph(include_type_only=True)) == []


def _reaches(graph: dict[str, set[str]], module: str, prefix: str) -> list[str]:
    return sorted(target for target in graph[module] if target == prefix or target.startswith(prefix + "."))


@pytest.mark.parametrize(("importer", "imported"), [
    ("server.signaling", "server.recording"),  # the composition root wires recording in
    ("server.signaling", "server.cluster"),  # and the cluster (server.cluster.node.attach)
    ("server.recording", "server.signaling"),
    ("server.signaling", "server.web"),
    ("server.recording", "server.web"),
    ("server.sfu", "server.signaling"),
    ("server.context", "server.web"),
    ("record", "server"),
    ("minutes", "server"),
    ("recorder", "server"),
])
def test_layers_import_downwards(importer: str, imported: str) -> None:
    graph = _graph(include_type_only=True)
    offending = {module: _reaches(graph, module, imported) for module in graph
                 if module == importer or module.startswith(importer + ".")}
    assert {module: targets for module, targets in offending.items() if targets} == {}


SOCKETIO_ADAPTERS = {
    "server.signaling.server",  # the socket.io server and its gate
    "server.signaling.sio_sink",  # the MessageSink over socket.io rooms
    "server.signaling.packets",  # its tolerant packet decoder
    "server.signaling.frame_limit",  # its answer to a message past the transport's limit
    "server.signaling.redis_manager",  # its Redis manager with a prompt resubscription
    "server.bot.signaling",  # the bot's socket.io client
}


def test_only_the_adapters_touch_socketio() -> None:
    """Room logic talks to a MessageSink (server.signaling.sink), never to socket.io."""
    importers = set()
    for module, path in MODULES.items():
        for statement, _type_only in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in statement.names] if isinstance(statement, ast.Import)
                     else [statement.module or ""])
            if any(name == "socketio" or name.startswith("socketio.") for name in names):
                importers.add(module)
    assert importers <= SOCKETIO_ADAPTERS, importers - SOCKETIO_ADAPTERS
