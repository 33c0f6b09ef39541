"""A bot the cascade's namespace test runs inside a network namespace and steers over stdin/stdout.

`lianshen bot` stays for a fixed time and reports once; this one stays until told, and reports on
demand, so the test reads every bot at the moment it measures the links:

    ip netns exec NS python -m tests.cluster.netns_bot URL MEETING USER CLIPS [watch]   (password on stdin)

publishes the clips the test encoded once and pickled to CLIPS (video, audio: encoding the 4 s
video clip costs a process about 10 s of CPU, which six bots at once on a loaded machine could not
afford) (not with ``watch``), prints ``{"joined": "<participant id>", "url": "<node it joined>"}``,
then one ``BotClient.report()`` JSON line (with each source's packets lost, and ``at``: this
machine's monotonic clock when it was taken) per ``report`` line read; ``quit`` (or end of input)
leaves. ``at`` makes the test's rates exact however late a loaded machine answers it.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from server.bot.media import EncodedClip
from server.bot.participant import Participant
from server.bot.signaling import BotClient, gather_addresses_for, sign_in


def save_clips(path: Path, video: EncodedClip, audio: EncodedClip) -> None:
    """Write the clips for the bots (the test's side of CLIPS)."""
    path.write_bytes(pickle.dumps((video, audio)))


async def _report(bot: BotClient) -> dict[str, Any]:
    """``BotClient.report()``, each source with the packets it lost for good here (aiortc's
    inbound-rtp ``packetsLost``: not received, nor resent in time), and when it was taken."""
    report = {**bot.report(), "at": time.monotonic()}
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


async def main(url: str, meeting_id: int, user: str, clips: Path, publish: bool) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    password = (await reader.readline()).decode().rstrip("\n")
    video, audio = pickle.loads(await asyncio.to_thread(clips.read_bytes))  # the test's own file
    bot = BotClient(url, meeting_id, cookie=await sign_in(url, user, password), name=user)
    # Made before the join, which keeps it (the nodes of the test name no ICE servers).
    bot.participant = Participant(user, gather_addresses=gather_addresses_for(url), video=video, audio=audio)
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
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), sys.argv[5:] != ["watch"]))
