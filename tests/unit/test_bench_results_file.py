"""bench/sfu.py adds its section to bench/RESULTS.md by appending, never by rewriting the file: the
other benchmarks append to the same file, maybe at the same time, and nothing they add is lost."""

from __future__ import annotations

import importlib.util
import sys
import threading
from functools import cache
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


@cache
def _sfu_bench() -> ModuleType:
    """bench/sfu.py as its script run imports it (bench/ on the path for its sibling modules)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("sfu", BENCH / "sfu.py")
        assert spec is not None and spec.loader is not None
        module = sys.modules["sfu"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_a_new_file_gets_its_title(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    _sfu_bench().append_section(results, "## run\n\nnumbers\n")
    assert results.read_text() == "# Benchmark results\n\n## run\n\nnumbers\n"


def test_sections_appended_meanwhile_by_other_benchmarks_are_kept(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## earlier\n")
    append_section = _sfu_bench().append_section
    lines = 3000
    started = threading.Event()

    def other_benchmark() -> None:  # as bench/archive.py and the others write theirs
        started.set()
        for n in range(lines):
            with results.open("a", encoding="utf-8") as out:
                out.write(f"other {n}\n")

    other = threading.Thread(target=other_benchmark)
    other.start()
    started.wait(10)
    for n in range(300):
        append_section(results, f"## sfu {n}\n")
    other.join(60)
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\n## earlier\n")
    assert [line for line in text.splitlines() if line.startswith("other ")] == [f"other {n}" for n in range(lines)]
    assert sum(line.startswith("## sfu ") for line in text.splitlines()) == 300
