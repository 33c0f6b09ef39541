"""Simulcast from a real browser: Chromium sends its camera as three layers, the SFU forwards each
viewer the layer chosen for it, the viewing browser tells its tile size and shows a quality dot."""

from __future__ import annotations

from playwright.async_api import Browser

from server.bot.media import audio_clip, video_clip
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.peer import Peer
from server.sfu.producer import Producer
from tests.browser.room_driver import WAIT_MS, enter_room
from tests.media.signaling_harness import LiveServer


def peer_of(live: LiveServer, participant_id: str) -> Peer:
    return live.signaling.meetings[live.world.meeting_x].participants[participant_id].peer


def consumer_of(subscriber: Peer, producer: Producer) -> PacketConsumer:
    slot = next(s for s in subscriber.slots if s.producer_id == producer.id)
    assert isinstance(slot.consumer, PacketConsumer)
    return slot.consumer


async def test_a_browser_camera_arrives_as_layers_and_each_viewer_gets_its_own(
    live: LiveServer, browser: Browser
) -> None:
    # the bot's clips are encoded once per process, in the event loop the server shares: before
    # the browsers connect, so their sockets never wait on it
    video_clip(), audio_clip()
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")  # simulcast: the default
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    bot = await live.bot("agent", publish=())
    chair_id, rep_id = await chair.participant_id(), await rep.participant_id()
    await rep.wait_video(chair_id)
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") > 30, 30)

    camera = peer_of(live, chair_id).producers["video"]
    assert [layer.rid for layer in camera.layers] == ["q", "h", "f"]
    # every layer arrives (Chromium may hold back the upper ones until its estimate allows them),
    # each at its own size: it scales 4/2/1
    await bot.wait_frames(lambda b: all(layer.meter.last_packet_at for layer in camera.layers), 40)
    widths = [layer.size[0] for layer in camera.layers if layer.size]
    assert len(widths) >= 2 and widths == sorted(widths) and len(set(widths)) == len(widths), widths

    # the viewing browser said how large it shows the camera
    rep_consumer = consumer_of(peer_of(live, rep_id), camera)
    choice = camera.layer_choice(rep_consumer)
    assert choice is not None
    await bot.wait_frames(lambda b: choice.view is not None, 20)
    assert choice.view is not None and choice.view.visible and choice.view.width > 0

    # a viewer with a small tile gets the lowest layer, at that layer's keyframe, and keeps playing
    bot_consumer = consumer_of(peer_of(live, bot.participant_id or ""), camera)
    assert peer_of(live, bot.participant_id or "").set_view(camera.id, 200, 112, True)
    await bot.wait_frames(lambda b: bot_consumer.layer == 0, 20)
    frames = bot.frames(chair_id, "video")
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") > frames + 30, 20)
    # the other viewer's choice is its own: its tile, not the bot's
    assert choice.view is not None and choice.view.width != 200
    # and the viewing browser shows a quality dot on the chair's tile
    await rep.page.wait_for_function(
        "id => ['good', 'fair'].includes(document.querySelector(`.tile[data-participant='${id}']`)"
        ".dataset.videoQuality)", arg=chair_id, timeout=WAIT_MS)
    # switched off in the browser (localStorage "lianshen.simulcast" = "0") the camera is one stream
    encodings = await rep.page.evaluate("""async () => {
        const { sendingInit } = await import("/static/js/layers.js");
        const on = sendingInit("video").sendEncodings;
        localStorage.setItem("lianshen.simulcast", "0");
        const off = sendingInit("video").sendEncodings;
        localStorage.removeItem("lianshen.simulcast");
        const layers = (init) => (init ? init.filter((encoding) => encoding.rid).length : 0);
        return [layers(on), layers(off)];
    }""")
    assert encodings == [3, 0]  # (one stream may still carry temporal layers: test_room_temporal.py)
