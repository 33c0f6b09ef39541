"""`lianshen demo` (what `make run` starts) shows a person the URL and the accounts, and the log
(alembic's migration messages, requests) goes to <data dir>/logs/lianshen.log instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

RUNNING = "running at"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_prints_url_and_accounts_and_logs_to_a_file(tmp_path: Path) -> None:
    env = {**os.environ, "LIANSHEN_DATA_DIR": str(tmp_path)}
    env.pop("LIANSHEN_DATABASE_URL", None)
    port = _free_port()
    # stderr joins stdout: the console as a person sees it, in order.
    process = subprocess.Popen([sys.executable, "-m", "server", "demo", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ends when the server says it runs, or when the process exits
            lines.append(line.rstrip("\n"))
            if RUNNING in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    screen = "\n".join(lines)
    assert RUNNING in screen, screen
    assert f"URL: http://127.0.0.1:{port}/" in screen
    assert "chair" in screen and "password" in screen  # the accounts table
    assert not [line for line in lines if "alembic" in line.lower() or "INFO" in line], screen
    assert len(lines) < 60, screen
    log = tmp_path / "logs" / "lianshen.log"
    assert str(log.resolve()) in screen
    assert "alembic" in log.read_text(encoding="utf-8")
