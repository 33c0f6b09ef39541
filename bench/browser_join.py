"""Browser join benchmark: time from clicking "join" on the room page's device check to the first
remote video frame playing, in real headless Chromium against the real server.

Run by hand (about a minute):

    .venv/bin/python bench/browser_join.py            # 20 joins, appended to bench/RESULTS.md
    .venv/bin/python bench/browser_join.py --joins 5 --no-record

How it is measured: the server runs in this process (aiohttp on 127.0.0.1, a temporary SQLite
database holding tests/world.py's world); the chair sits in the room publishing Chromium's fake
camera. Then, 20 times, a chief representative opens the room page in a fresh browser context,
waits until the device check shows its camera (the socket connects meanwhile) and clicks "加入会议":
the page notes Date.now() at the click, joins over socket.io, publishes the previewed stream,
answers the subscribe offer, and records Date.now() when the first remote video frame is presented
(requestVideoFrameCallback, client_web/static/js/grid.js). The difference is one sample; the
representative then leaves. Everything runs inside `unshare -n` (only `lo`),
media on 127.0.0.1. Target: p95 < 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestServer  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from server.app import build_app  # noqa: E402
from server.db.engine import create_engine, session_factory  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.settings import load_settings  # noqa: E402
from tests.browser.room_driver import WAIT_MS, enter_room, launch, open_context  # noqa: E402
from tests.world import build_world  # noqa: E402

NETNS_ENV = "LIANSHEN_BROWSER_BENCH_NETNS"
TARGET_P95_MS = 1500
RESULTS = ROOT / "bench" / "RESULTS.md"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


SIMULCAST_OFF = "localStorage.setItem('lianshen.simulcast', '0')"
"""What a person who switched simulcast off has in this browser (client_web/static/js/layers.js)."""


async def run(joins: int, verbose: bool = False, simulcast: bool = True) -> list[float]:
    os.environ.setdefault("LIANSHEN_AUTH_ARGON2_TIME_COST", "1")
    os.environ.setdefault("LIANSHEN_AUTH_ARGON2_MEMORY_KIB", "64")
    with tempfile.TemporaryDirectory(prefix="lianshen-bench-") as folder:
        database = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{database}"
        await asyncio.to_thread(upgrade, url)
        settings = load_settings(data_dir=Path(folder) / "data", database={"url": url},
                                 sfu={"ice_gather_addresses": ["127.0.0.1"], "allowed_networks": ["127.0.0.0/8"]})
        engine = create_engine(settings.database_url)
        world = await build_world(session_factory(engine))
        server = TestServer(build_app(settings), host="127.0.0.1")
        await server.start_server()
        base = f"http://127.0.0.1:{server.port}"
        samples: list[float] = []
        try:
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                chair_context = await open_context(browser, base, "chair")
                if not simulcast:  # the chair publishes; the joiners' own cameras follow suit
                    await chair_context.add_init_script(SIMULCAST_OFF)
                chair = await enter_room(browser, base, world.meeting_x, "chair", context=chair_context)
                for _ in range(joins):
                    context = await open_context(browser, base, "rep_a")
                    if not simulcast:
                        await context.add_init_script(SIMULCAST_OFF)
                    page = await context.new_page()
                    await page.goto(f"{base}/meetings/{world.meeting_x}/room")
                    # as a person would: the preview shows, then they click (the socket is up by then)
                    await page.wait_for_function(
                        "document.body.dataset.deviceMode === 'full' && window.__lianshen.signaling.connected",
                        timeout=WAIT_MS)
                    await page.click("#join-full")
                    handle = await page.wait_for_function(
                        "window.__lianshen && window.__lianshen.joinToFirstFrameMs", polling=20, timeout=WAIT_MS)
                    samples.append(float(await handle.json_value()))
                    if verbose:
                        marks = await page.evaluate("window.__lianshen.marks")
                        print({k: v - marks["click"] for k, v in marks.items()}, "(ms after the click)")
                    await page.click("#leave")
                    await page.wait_for_url(f"**/meetings/{world.meeting_x}", timeout=WAIT_MS)
                    await context.close()
                await chair.context.close()
                await browser.close()
        finally:
            await server.close()
            await engine.dispose()
    return samples


def record(samples: list[float], command: str, load_before: str, simulcast: bool) -> str:
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    verdict = "PASS" if p95 < TARGET_P95_MS else "FAIL"
    chromium = shutil.which("chromium") or "chromium"
    section = (
        f"\n## Browser join, after in-page device check ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
        f"`{command}` (bench/browser_join.py) — {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {chromium}; netns: "
        f"{'yes (unshare -n, lo only)' if os.environ.get(NETNS_ENV) else 'NO'}; load average before / "
        f"after: {load_before} / {os.getloadavg()[0]:.2f}.\n\n"
        f"Click on 加入会议 (the room page's device check; socket already connected) → join → publish → "
        f"subscribe → first remote video frame presented (requestVideoFrameCallback), chair already "
        f"publishing (simulcast {'on' if simulcast else 'off'}), {len(samples)} joins.\n\n"
        f"| joins | p50 ms | p95 ms | min ms | max ms | mean ms |\n|---|---|---|---|---|---|\n"
        f"| {len(samples)} | {p50:.0f} | {p95:.0f} | {min(samples):.0f} | {max(samples):.0f} | "
        f"{statistics.mean(samples):.0f} |\n\n"
        f"Target p95 < {TARGET_P95_MS} ms on loopback: **{verdict}**.\n"
    )
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--no-record", action="store_true", help="print, do not append to bench/RESULTS.md")
    parser.add_argument("--verbose", action="store_true", help="print each join's steps (ms after the script ran)")
    parser.add_argument("--no-netns", action="store_true", help="do not re-run inside `unshare -n`")
    parser.add_argument("--simulcast", choices=("on", "off"), default="on",
                        help="the cameras' simulcast (default on, as the client's default)")
    args = parser.parse_args()
    if not args.no_netns and not os.environ.get(NETNS_ENV) and shutil.which("unshare"):
        env = dict(os.environ, **{NETNS_ENV: "1"})
        os.execvpe("unshare", ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                               sys.executable, __file__, *sys.argv[1:]], env)
    load_before = f"{os.getloadavg()[0]:.2f}"  # the machine is shared: say how busy it was
    simulcast = args.simulcast == "on"
    samples = asyncio.run(run(args.joins, args.verbose, simulcast))
    section = record(samples, "python bench/browser_join.py " + " ".join(sys.argv[1:]), load_before, simulcast)
    print(section)
    print("samples ms:", ", ".join(f"{s:.0f}" for s in samples))
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
