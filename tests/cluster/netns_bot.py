"""A bot the cascade's namespace test runs inside a network namespace and steers over stdin/stdout.

`lianshen bot` stays for a fixed time and reports once; this one stays until told, and reports on
demand, so the test reads every bot at the moment it measures the links:

    ip netns exec NS python -m tests.cluster.netns_bot URL MEETING USER [watch]   (password on stdin)

publishes its clips (not with ``watch``), prints ``{"joined": "<participant id>", "url": "<node it
joined>"}``, then one
``BotClient.report()`` JSON line per ``report`` line read; ``quit`` (or end of input) leaves.
"""

from __future__ import annotations

import asyncio
import json
import sys

from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient, sign_in


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
                print(json.dumps(bot.report(), ensure_ascii=False), flush=True)
    finally:
        await bot.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:] != ["watch"]))
