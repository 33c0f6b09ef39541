"""A bot the cascade's namespace test runs inside a network namespace and steers over stdin/stdout.

`lianshen bot` stays for a fixed time and reports once; this one stays until told, and reports on
demand, so the test reads every bot at the moment it measures the links:

    ip netns exec NS python -m tests.cluster.netns_bot URL MEETING USER [watch]   (password on stdin)

publishes its clips (not with ``watch``), prints ``{"joined": "<participant id>", "url": "<node it
joined>"}``, then one
``BotClient.report()`` JSON line (with each source's packets lost) per ``report`` line read; ``quit`` (or end of input) leaves.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient, sign_in


async def _report(bot: BotClient) -> dict[str, Any]:
    """``BotClient.report()``, each source with the packets it lost for good here (aiortc's
    inbound-rtp ``packetsLost``: not received, nor resent in time)."""
    report = bot.report()
    lost: dict[str, int] = {}
    if bot.participant is not None:
        for transceiver in bot.participant.subscribe_pc.getTransceivers():
            source = bot.participant.receiver.source(transceiver.mid) if transceiver.mid else None
            if source is not None:
                stats = await transceiver.receiver.getStats()
                lost[source] = sum(max(0, s.packetsLost) for s in stats.values() if s.type == "inbound-rtp")
    for source in report["sources"]:
        source["packets_lost"] = lost.get(f"{source['participant']}:{source['kind']}", 0)
    return report


async def main(url: str, meeting_id: int, user: str, publish: bool) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    password = (await reader.readline()).decode().rstrip("\n")
    await asyncio.to_thread(video_clip)
    await asyncio.to_thread(audio_clip)
    bot = BotClient(url, meeting_id, cookie=await sign_in(url, user, password), name=user)
    try:
        await bot.connect()
        await bot.join()
        if publish:
            await bot.publish()
        print(json.dumps({"joined": bot.participant_id, "url": bot.url}), flush=True)
        while (line := (await reader.readline()).decode().strip()) not in ("quit", ""):
            if line == "report":
                print(json.dumps(await _report(bot), ensure_ascii=False), flush=True)
    finally:
        await bot.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:] != ["watch"]))
