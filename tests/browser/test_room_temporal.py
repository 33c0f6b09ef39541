"""Temporal layers from a real browser: Chromium sends its camera (one stream: this browser opts out
of simulcast, so the temporal layers are all there is to choose from) in VP8 L1T3, the SFU sees the three temporal layers, and a viewer held at T0 keeps playing at a
lower frame rate, then climbs back without a keyframe while the browser viewer never notices."""

from __future__ import annotations

import time

from playwright.async_api import Browser

from server.bot.media import audio_clip, video_clip
from tests.browser.room_driver import enter_room, open_context
from tests.browser.test_room_layers import consumer_of, peer_of
from tests.media.signaling_harness import LiveServer


async def test_a_browser_camera_arrives_in_temporal_layers_and_a_viewer_can_be_held_at_t0(
    live: LiveServer, browser: Browser
) -> None:
    video_clip(), audio_clip()  # encoded before the browsers connect (test_room_layers.py says why)
    context = await open_context(browser, live.url, "chair")
    await context.add_init_script("localStorage.setItem('lianshen.simulcast', '0')")
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair", context=context)
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    bot = await live.bot("agent", publish=())
    chair_id = await chair.participant_id()
    await rep.wait_video(chair_id)
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") > 30, 30)

    camera = peer_of(live, chair_id).producers["video"]
    assert len(camera.layers) == 1  # no simulcast: one stream, in three temporal layers
    await bot.wait_frames(lambda b: len(camera.layers[0].meter.temporal_bps) == 3, 20)

    # the bot's tile is hidden: T0 only (a quarter of the frames), and it keeps decoding
    bot_peer = peer_of(live, bot.participant_id or "")
    bot_view = consumer_of(bot_peer, camera)
    assert bot_peer.set_view(camera.id, 320, 180, False)
    await bot.wait_frames(lambda b: bot_view.temporal_layer == 0, 10)
    frames, since = bot.frames(chair_id, "video"), time.monotonic()
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") >= frames + 10, 20)
    held_fps = (bot.frames(chair_id, "video") - frames) / (time.monotonic() - since)
    assert bot_view.stats().temporal_dropped > 0

    # shown again: back to every frame at the browser's next layer sync frames
    assert bot_peer.set_view(camera.id, 320, 180, True)
    await bot.wait_frames(lambda b: bot_view.temporal_layer == 2, 10)
    frames, since = bot.frames(chair_id, "video"), time.monotonic()
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") >= frames + 40, 20)
    full_fps = (bot.frames(chair_id, "video") - frames) / (time.monotonic() - since)
    print(f"browser L1T3 camera: held at T0 {held_fps:.1f} fps, back at T2 {full_fps:.1f} fps")
    assert held_fps < 0.5 * full_fps
    report = bot.report()
    assert all(source["decode_errors"] == 0 for source in report["sources"])
    receiver_report = bot_view.receiver_report
    assert receiver_report is None or receiver_report.packets_lost == 0
    # the browser viewer took all of it
    rep_view = consumer_of(peer_of(live, await rep.participant_id()), camera)
    assert rep_view.stats().temporal_dropped == 0
