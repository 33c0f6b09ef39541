"""The libraries beside the server never import it: the record, the recorder and the minutes are
read by the server, not the other way round (checked on the source, so a lazy import inside a
function counts as much as one at the top)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("library", ["record", "recorder", "minutes"])
def test_library_never_imports_the_server(library: str) -> None:
    files = sorted((ROOT / library).rglob("*.py"))
    assert files
    offending = {str(path.relative_to(ROOT)): sorted(name for name in _imports(path)
                                                      if name == "server" or name.startswith("server."))
                 for path in files}
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_record_needs_neither_the_recorder_nor_the_minutes() -> None:
    for path in (ROOT / "record").rglob("*.py"):
        assert not {name for name in _imports(path) if name.split(".")[0] in ("recorder", "minutes")}, path
