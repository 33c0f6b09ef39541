"""Pictures of the printed documents for docs/: the first and last page of the demo's minutes and
of its 一次性告知书, so a reader of the repository sees the paper without running anything.

Seeds the demo into a throw-away data directory, renders through the `lianshen minutes` command
(the same path an office uses) and rasterises with pdftoppm (poppler-utils, scripts/setup.sh):
    .venv/bin/python scripts/render_samples.py [--meeting 1] [--dpi 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _lianshen(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    if done.returncode:
        raise SystemExit(f"lianshen {' '.join(args)} failed:\n{done.stderr}")


def _pages(pdf: Path) -> int:
    import pypdf

    return len(pypdf.PdfReader(pdf).pages)


def _picture(pdf: Path, page: int, out: Path, dpi: int) -> None:
    """One page as PNG (pdftoppm writes <prefix>.png with -singlefile)."""
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    str(pdf), str(out.with_suffix(""))], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meeting", default="1", help="the demo meeting with minutes (default 1, the ended one)")
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        print("render_samples: pdftoppm missing: install poppler-utils (scripts/setup.sh)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temp:
        env = {**os.environ, "LIANSHEN_DATA_DIR": str(Path(temp) / "data")}
        env.pop("LIANSHEN_DATABASE_URL", None)
        _lianshen(env, "demo", "--no-serve")
        for command, name in (("render", "minutes"), ("notice", "notice")):
            pdf = Path(temp) / f"{name}.pdf"
            _lianshen(env, "minutes", command, args.meeting, "--format", "pdf", "--out", str(pdf))
            last = _pages(pdf)
            for page, which in ((1, "first"), (last, "last")):
                out = DOCS / f"sample-{name}-{which}.png"
                _picture(pdf, page, out, args.dpi)
                print(f"render_samples: {out.relative_to(REPO)} (page {page} of {last})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
