"""``python -m recorder.compose <recording dir> [--force]``: compose in a process of its own.

The server starts compositions this way so that a long encode never competes with live meetings
for the server's interpreter lock; progress goes to composed/status.json, which the page polls.
Exit status: 0 done, 2 refused or failed (message on stderr), 3 already running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recorder.compose import ComposeBusy, ComposeError, compose


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recorder.compose", description=__doc__)
    parser.add_argument("directory", type=Path, help="the recording directory (holds manifest.json)")
    parser.add_argument("--force", action="store_true", help="replace a finished composed video")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args(argv)
    try:
        compose(args.directory, width=args.width, height=args.height, fps=args.fps, force=args.force)
    except ComposeBusy as exc:
        print(exc, file=sys.stderr)
        return 3
    except ComposeError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
